import { AuditList, AuditQuery, Command, CommandParams } from '@cybercorp/protocol';
import { ApiError } from '../infra/problem.js';
import { answerKeysetPage } from './keyset-page-answer.js';
import { defineRoute, type AnyRoute } from './route.js';
import type { RouteServices } from './services.js';

const DEFAULT_AUDIT_PAGE = 50;

export function recordRoutes(s: RouteServices): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/commands/:commandId',
      summary: 'A relayed command and its outcome',
      tag: 'records',
      access: 'agents:read',
      params: CommandParams,
      responses: {
        200: { description: 'Command', schema: Command },
        404: { description: 'no_such_command' },
      },
      handler: async ({ params }) => {
        const row = await s.relay.find(params.commandId);
        if (!row) throw new ApiError('no_such_command', `no command ${params.commandId}`);
        return {
          status: 200,
          body: {
            ...row,
            createdAt: row.createdAt.toISOString(),
            deadlineAt: row.deadlineAt.toISOString(),
            finishedAt: row.finishedAt?.toISOString() ?? null,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/audit',
      summary: 'Who did what to which target, when, why, and the outcome (newest first)',
      tag: 'records',
      access: 'audit:read',
      query: AuditQuery,
      responses: { 200: { description: 'Audit events', schema: AuditList } },
      handler: ({ query }) =>
        answerKeysetPage(
          s.audit,
          { agentId: query.agentId, actor: query.actor, action: query.action },
          query,
          DEFAULT_AUDIT_PAGE,
        ),
    }),
  ];
}
