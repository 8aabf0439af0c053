import { AgentParams, AgentTokenList, AgentTokenParams } from '@cybercorp/protocol';
import { defineRoute, type AnyRoute } from './route.js';
import type { RouteServices } from './services.js';

/** Listing and revoking agent tokens, and decommissioning the agents registered with them. */
export function agentTokenRoutes(s: RouteServices): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/agent-tokens',
      summary: 'Active agent tokens with the agents registered with each, without their secrets',
      tag: 'admin',
      access: 'tokens:admin',
      responses: { 200: { description: 'Agent tokens', schema: AgentTokenList } },
      handler: async () => ({ status: 200, body: { items: await s.agentTokens.list() } }),
    }),
    defineRoute({
      method: 'delete',
      path: '/agent-tokens/:tokenId',
      summary:
        "Revoke an agent token: its agents' live sessions close within a second, on every instance, and it is refused from then on",
      tag: 'admin',
      access: 'tokens:admin',
      params: AgentTokenParams,
      responses: {
        204: { description: 'Revoked' },
        404: { description: 'not_found: no active agent token with that id' },
      },
      handler: async ({ params, caller }) => {
        await s.agentTokens.revoke(params.tokenId, caller.username);
        await s.audit.record({
          actor: caller.username,
          action: 'agent_token.revoke',
          targetType: 'agent_token',
          targetId: params.tokenId,
          outcome: 'succeeded',
        });
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/agents/:agentId',
      summary:
        'Decommission an offline agent: removed from the fleet with its command history; its instance uid and its place under its token are free again',
      tag: 'agents',
      access: 'agents:admin',
      params: AgentParams,
      responses: {
        204: { description: 'Decommissioned' },
        404: { description: 'no_such_agent' },
        409: { description: 'agent_online: the agent is connected' },
      },
      handler: async ({ params, caller }) => {
        await s.agents.decommission(params.agentId);
        await s.audit.record({
          actor: caller.username,
          action: 'agent.decommission',
          targetType: 'agent',
          targetId: params.agentId,
          agentId: params.agentId,
          outcome: 'succeeded',
        });
        return { status: 204 };
      },
    }),
  ];
}
