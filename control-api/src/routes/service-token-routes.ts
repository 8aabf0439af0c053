import {
  CreateServiceTokenBody,
  CreatedServiceToken,
  ServiceTokenList,
  ServiceTokenParams,
} from '@cybercorp/protocol';
import { defineRoute, type AnyRoute } from './route.js';
import type { RouteServices } from './services.js';

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
      handler: async ({ body, caller }) => {
        const created = await s.serviceTokens.create(body.name, body.role, caller.username);
        await s.audit.record({
          actor: caller.username,
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
      handler: async ({ params, caller }) => {
        await s.serviceTokens.revoke(params.tokenId, caller.username);
        await s.audit.record({
          actor: caller.username,
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
