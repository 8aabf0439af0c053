import { AgentToken, CreateAgentTokenBody, CreateUserBody, User } from '@cybercorp/protocol';
import { defineRoute, type AnyRoute } from './route.js';
import type { RouteServices } from './services.js';

export function adminRoutes(s: RouteServices): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/users',
      summary: 'Create a user with a role',
      tag: 'admin',
      access: 'users:admin',
      body: CreateUserBody,
      responses: { 201: { description: 'Created', schema: User } },
      handler: async ({ body, caller }) => {
        const created = await s.users.create(body.username, body.password, body.role);
        await s.audit.record({
          actor: caller.username,
          action: 'user.create',
          targetType: 'user',
          targetId: created.username,
          outcome: 'succeeded',
        });
        return { status: 201, body: created };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/agent-tokens',
      summary: 'Create an agent token (shown once; only its hash is stored)',
      tag: 'admin',
      access: 'tokens:admin',
      body: CreateAgentTokenBody,
      responses: { 201: { description: 'Created', schema: AgentToken } },
      handler: async ({ body, caller }) => {
        const created = await s.agentTokens.create(body.name, caller.username, body.maxAgents);
        await s.audit.record({
          actor: caller.username,
          action: 'agent_token.create',
          targetType: 'agent_token',
          targetId: created.id,
          outcome: 'succeeded',
        });
        return { status: 201, body: created };
      },
    }),
  ];
}
