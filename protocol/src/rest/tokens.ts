import { z } from 'zod';
import { SERVICE_TOKEN_ROLES } from './roles.js';
import { text } from './text.js';

/** `maxAgents` of a fleet token: any number of agents may register with it. */
export const UNLIMITED_AGENTS = '*';

/** How many agents (instance uids) may register with one agent token. */
export const MaxAgents = z
  .union([z.int().min(1).max(1_000_000), z.literal(UNLIMITED_AGENTS)])
  .describe('agents that may register with the token; "*" for a fleet token without a cap');
export type MaxAgents = z.infer<typeof MaxAgents>;

export const CreateAgentTokenBody = z.object({
  name: text(1, 200),
  maxAgents: MaxAgents.default(1),
});
export type CreateAgentTokenBody = z.input<typeof CreateAgentTokenBody>;

export const AgentToken = z.object({
  id: z.uuid(),
  name: z.string(),
  maxAgents: MaxAgents,
  token: z.string().describe('the secret (cca_…); shown only in this response'),
});
export type AgentToken = z.infer<typeof AgentToken>;

/** How many agent ids a listed token names at most; `agentCount` counts them all. */
export const LISTED_AGENT_IDS = 100;

/** An active agent token as listed: never its secret or the secret's hash. */
export const AgentTokenInfo = z.object({
  id: z.uuid(),
  name: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable().describe('last accepted OpAMP connection (to the minute)'),
  maxAgents: MaxAgents,
  agentCount: z.int().describe('agents registered with the token'),
  agentIds: z.array(z.string()).describe(`the first ${LISTED_AGENT_IDS} of them, by id`),
});
export type AgentTokenInfo = z.infer<typeof AgentTokenInfo>;

export const AgentTokenList = z.object({ items: z.array(AgentTokenInfo) });
export type AgentTokenList = z.infer<typeof AgentTokenList>;

export const AgentTokenParams = z.object({ tokenId: z.uuid() });
export type AgentTokenParams = z.input<typeof AgentTokenParams>;

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
