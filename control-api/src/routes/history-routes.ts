import {
  AgentParams,
  EventList,
  EventQuery,
  MetricHistory,
  MetricHistoryQuery,
} from '@cybercorp/protocol';
import { answerKeysetPage } from './keyset-page-answer.js';
import { defineRoute, type AnyRoute } from './route.js';
import type { RouteServices } from './services.js';

const DEFAULT_RANGE_MS = 60 * 60 * 1000;
const DEFAULT_EVENT_PAGE = 100;

/** What the history store answers about the past: metrics kept in PostgreSQL. */
export function historyRoutes(s: RouteServices): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/agents/:agentId/metrics',
      summary: "One metric of the agent's host over time, downsampled (avg and max per step)",
      tag: 'history',
      access: 'agents:read',
      params: AgentParams,
      query: MetricHistoryQuery,
      responses: {
        200: {
          description: 'Series of the metric, at most 2000 points each',
          schema: MetricHistory,
        },
        400: { description: 'validation_failed' },
        404: { description: 'no_such_agent' },
      },
      handler: async ({ params, query }) => {
        const to = query.to === undefined ? new Date() : new Date(query.to);
        const from =
          query.from === undefined
            ? new Date(to.getTime() - DEFAULT_RANGE_MS)
            : new Date(query.from);
        await s.agents.mustExist(params.agentId);
        return {
          status: 200,
          body: await s.history.downsample({
            agentId: params.agentId,
            name: query.name,
            from,
            to,
            stepSeconds: query.step,
          }),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/events',
      summary:
        'What happened, newest first: agents connecting and going away, every audited command with its outcome, token and user changes',
      tag: 'history',
      access: 'audit:read',
      query: EventQuery,
      responses: { 200: { description: 'One page of events', schema: EventList } },
      handler: ({ query }) =>
        answerKeysetPage(
          s.events,
          { agentId: query.agentId, type: query.type },
          query,
          DEFAULT_EVENT_PAGE,
        ),
    }),
  ];
}
