import { z } from 'zod';
import { SERVICE_TOKEN_ROLES } from './roles.js';
import { text } from './text.js';

export const CreateAgentTokenBody = z.object({ name: text(1, 200) });
export type CreateAgentTokenBody = z.input<typeof CreateAgentTokenBody>;

export const AgentToken = z.object({ id: z.uuid(), name: z.string(), token: z.string() });
export type AgentToken = z.infer<typeof AgentToken>;

/** A name that reads unambiguously inside an audit actor: `... via service token <name>`. */
export const CreateServiceTokenBody = z.object({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits and _ . @ - only'),
  role: z.enum(SERVICE_TOKEN_ROLES).describe('a service token is never admin'),
});
export type CreateServiceTokenBody = z.input<typeof CreateServiceTokenBody>;

export const ServiceToken = z.object({
  id: z.uuid(),
  name: z.string(),
  role: z.enum(SERVICE_TOKEN_ROLES),
  createdBy: z.string(),
  createdAt: z.string(),
});
export type ServiceToken = z.infer<typeof ServiceToken>;

export const CreatedServiceToken = ServiceToken.extend({
  token: z.string().describe('the secret (ccs_…); shown only in this response'),
});
export type CreatedServiceToken = z.infer<typeof CreatedServiceToken>;

export const ServiceTokenList = z.object({ items: z.array(ServiceToken) });
export type ServiceTokenList = z.infer<typeof ServiceTokenList>;

export const ServiceTokenParams = z.object({ tokenId: z.uuid() });
export type ServiceTokenParams = z.input<typeof ServiceTokenParams>;
