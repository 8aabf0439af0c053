import { z } from 'zod';
import { SERVICE_TOKEN_ROLES } from '../services/service-token-service.js';
import { defineRoute, type AnyRoute } from './route.js';
import type { RouteServices } from './services.js';

/** A name that reads unambiguously inside an audit actor: `... via service token <name>`. */
export const CreateServiceTokenBody = z.object({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits and _ . @ - only'),
  role: z.enum(SERVICE_TOKEN_ROLES).describe('a service token is never admin'),
});
export const ServiceToken = z.object({
  id: z.uuid(),
  name: z.string(),
  role: z.enum(SERVICE_TOKEN_ROLES),
  createdBy: z.string(),
  createdAt: z.string(),
});
export const CreatedServiceToken = ServiceToken.extend({
  token: z.string().describe('the secret (ccs_…); shown only in this response'),
});
export const ServiceTokenList = z.object({ items: z.array(ServiceToken) });
export const ServiceTokenParams = z.object({ tokenId: z.uuid() });

export function serviceTokenRoutes(s: RouteServices): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/service-tokens',
      summary:
        'Create a service token for an integration such as the Grafana plugin proxy (shown once)',
      tag: 'admin',
      access: 'tokens:admin',
      body: CreateServiceTokenBody,
      responses: {
        201: { description: 'Created', schema: CreatedServiceToken },
        409: { description: 'conflict: an active token has that name' },
      },
      handler: async ({ body, user }) => {
        const created = await s.serviceTokens.create(body.name, body.role, user!.username);
        await s.audit.record({
          actor: user!.username,
          action: 'service_token.create',
          targetType: 'service_token',
          targetId: created.id,
          outcome: 'succeeded',
        });
        return { status: 201, body: created };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/service-tokens',
      summary: 'Active service tokens, without their secrets',
      tag: 'admin',
      access: 'tokens:admin',
      responses: { 200: { description: 'Service tokens', schema: ServiceTokenList } },
      handler: async () => ({ status: 200, body: { items: await s.serviceTokens.list() } }),
    }),
    defineRoute({
      method: 'delete',
      path: '/service-tokens/:tokenId',
      summary: 'Revoke a service token; it is refused from the next request on',
      tag: 'admin',
      access: 'tokens:admin',
      params: ServiceTokenParams,
      responses: {
        204: { description: 'Revoked' },
        404: { description: 'not_found: no active token with that id' },
      },
      handler: async ({ params, user }) => {
        await s.serviceTokens.revoke(params.tokenId, user!.username);
        await s.audit.record({
          actor: user!.username,
          action: 'service_token.revoke',
          targetType: 'service_token',
          targetId: params.tokenId,
          outcome: 'succeeded',
        });
        return { status: 204 };
      },
    }),
  ];
}
