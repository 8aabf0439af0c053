import {
  ActionResult,
  Agent,
  AgentList,
  AgentListQuery,
  AgentParams,
  ProcessActionBody,
  ProcessInfo,
  ProcessHistory,
  ProcessList,
  ProcessListQuery,
  ProcessParams,
  WINDOWS_CAPABILITY,
  WINDOWS_UNAVAILABLE_ATTRIBUTE,
  WindowActionBody,
  WindowHistory,
  WindowInfo,
  WindowList,
  WindowParams,
  WindowQuery,
  windowsMissingDetail,
} from '@cybercorp/protocol';
import { z } from 'zod';
import { ApiError } from '../infra/problem.js';
import { defineRoute, type AnyRoute, type RawRequest } from './route.js';
import type { RouteServices } from './services.js';

const DEFAULT_AGENT_PAGE = 500;

const relayErrors = {
  404: { description: 'no_such_agent (or no_such_process / no_such_window from the agent)' },
  409: { description: 'capability_missing' },
  502: {
    description:
      'outcome_unknown: the command was sent and the agent disconnected before answering, so it may or may not have been carried out (recorded with status unknown); action_failed: the agent could not carry it out',
  },
  503: {
    description:
      "agent_offline: the agent is not connected; relay_unavailable: the agent is not connected to this instance and Redis, through which instances reach each other's agents, is unavailable (retry later, see Retry-After). Either way the command was not sent",
  },
  504: { description: 'agent_timeout' },
};

function agentData<T>(schema: z.ZodType<T>, data: unknown, agentId: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new ApiError('action_failed', `agent ${agentId} answered with malformed data`);
  }
  return parsed.data;
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');
const reasonOf = (request: RawRequest): string | null => {
  const reason: unknown = (request.body as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason.slice(0, 1000) : null;
};
const actionOf = (request: RawRequest) =>
  text((request.body as { action?: unknown } | undefined)?.action);

/** The instant an inventory `?at=` asked for, and when the snapshot answering it was taken. */
const historyInstants = (at: Date, snapshotTime: Date | null | undefined) => ({
  at: at.toISOString(),
  snapshotAt: snapshotTime ? snapshotTime.toISOString() : null,
});

/** What was running on the agent's host at `at`, as the inventory history kept it. */
async function processHistory(
  s: RouteServices,
  agentId: string,
  at: Date,
): Promise<ProcessHistory> {
  const rows = await s.inventory.processesAt(agentId, at);
  return {
    ...historyInstants(at, rows.find((row) => row.actedOn === null)?.time),
    items: rows.map((row) => ({
      pid: row.pid,
      name: row.name,
      user: row.owner,
      cpuUtilization: row.cpuUtilization,
      memoryBytes: row.memoryBytes,
      seenAt: row.time.toISOString(),
      actedOn: row.actedOn,
    })),
  };
}

/** The windows open on the agent's host at `at`, as the inventory history kept them. */
async function windowHistory(s: RouteServices, agentId: string, at: Date): Promise<WindowHistory> {
  const { snapshotAt, windows } = await s.inventory.windowsAt(agentId, at);
  return { ...historyInstants(at, snapshotAt), items: windows, source: 'history' };
}

export function agentRoutes(s: RouteServices): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/agents',
      summary: 'Every agent ever seen, with its presence',
      tag: 'agents',
      access: 'agents:read',
      query: AgentListQuery,
      responses: {
        200: { description: 'Agents ordered by id', schema: AgentList },
        503: {
          description:
            'redis_unavailable: presence lives in Redis, which this instance cannot reach; who is online is not guessed',
        },
      },
      handler: async ({ query }) => ({
        status: 200,
        body: await s.agents.page(query.limit ?? DEFAULT_AGENT_PAGE, query.cursor),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/agents/:agentId',
      summary: 'One agent',
      tag: 'agents',
      access: 'agents:read',
      params: AgentParams,
      responses: {
        200: { description: 'Agent', schema: Agent },
        404: { description: 'no_such_agent' },
      },
      handler: async ({ params }) => {
        const agent = await s.agents.get(params.agentId);
        if (!agent) throw new ApiError('no_such_agent', `no agent ${params.agentId}`);
        return { status: 200, body: agent };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/agents/:agentId/processes',
      summary: "The agent's live process list, or with `at` what was running then",
      tag: 'processes',
      access: 'processes:read',
      params: AgentParams,
      query: ProcessListQuery,
      responses: {
        200: {
          description: 'Processes: live, or (with `at`) from the inventory history',
          schema: z.union([ProcessList, ProcessHistory]),
        },
        ...relayErrors,
      },
      handler: async ({ params, query, caller }) => {
        if (query.at !== undefined) {
          await s.agents.mustExist(params.agentId);
          return { status: 200, body: await processHistory(s, params.agentId, new Date(query.at)) };
        }
        const { data } = await s.relay.execute({
          actor: caller.username,
          agentId: params.agentId,
          command: { type: 'process.list' },
        });
        return {
          status: 200,
          body: { items: agentData(z.array(ProcessInfo), data, params.agentId) },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/agents/:agentId/processes/:pid/actions',
      summary: 'Signal a process: terminate, kill, suspend or resume',
      tag: 'processes',
      access: 'processes:signal',
      params: ProcessParams,
      body: ProcessActionBody,
      auditTarget: (request) => ({
        action: `process.${actionOf(request) || 'unknown'}`,
        targetType: 'process',
        targetId: text(request.params.pid),
        agentId: text(request.params.agentId),
        reason: reasonOf(request),
      }),
      responses: {
        200: { description: 'Done', schema: ActionResult },
        403: { description: 'forbidden or protected_process' },
        ...relayErrors,
        409: {
          description:
            'capability_missing, or process_changed: the pid belongs to another process than the startedAt given',
        },
      },
      handler: async ({ params, body, caller }) => {
        const { commandId, data } = await s.relay.execute({
          actor: caller.username,
          agentId: params.agentId,
          command: {
            type: 'process.signal',
            pid: params.pid,
            action: body.action,
            ...(body.startedAt === undefined ? {} : { startedAt: body.startedAt }),
          },
          audit: {
            action: `process.${body.action}`,
            targetType: 'process',
            targetId: String(params.pid),
            reason: body.reason ?? null,
          },
        });
        await s.inventory.actedOn(params.agentId, params.pid, `process.${body.action}`);
        return { status: 200, body: { commandId, status: 'succeeded', result: data ?? {} } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/agents/:agentId/windows',
      summary:
        "The agent's desktop windows (live, the latest window.event with cached=true, or with `at` what was open then)",
      tag: 'windows',
      access: 'windows:read',
      params: AgentParams,
      query: WindowQuery,
      responses: {
        200: {
          description:
            'Windows: live, the latest window.event, or (with `at`) from the inventory history',
          schema: z.union([WindowList, WindowHistory]),
        },
        ...relayErrors,
      },
      handler: async ({ params, query, caller }) => {
        if (query.at !== undefined) {
          await s.agents.mustExist(params.agentId);
          return { status: 200, body: await windowHistory(s, params.agentId, new Date(query.at)) };
        }
        if (query.cached === 'true') {
          const agent = await s.agents.get(params.agentId);
          if (!agent) throw new ApiError('no_such_agent', `no agent ${params.agentId}`);
          // The cached list answers like the live one would: no window control, no windows.
          if (!agent.windowsControl) {
            throw new ApiError(
              'capability_missing',
              windowsMissingDetail(
                params.agentId,
                agent.resourceAttributes[WINDOWS_UNAVAILABLE_ATTRIBUTE],
              ),
            );
          }
          const snapshot = await s.windows.get(params.agentId);
          if (!snapshot)
            throw new ApiError('not_found', `agent ${params.agentId} has sent no window.event yet`);
          return {
            status: 200,
            body: { items: snapshot.windows, source: 'event', at: snapshot.at },
          };
        }
        const { data } = await s.relay.execute({
          actor: caller.username,
          agentId: params.agentId,
          command: { type: 'window.list' },
          requires: [WINDOWS_CAPABILITY],
        });
        return {
          status: 200,
          body: { items: agentData(z.array(WindowInfo), data, params.agentId), source: 'agent' },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/agents/:agentId/windows/:windowId/actions',
      summary: 'Act on a window: focus, minimize, maximize, restore or close',
      tag: 'windows',
      access: 'windows:control',
      params: WindowParams,
      body: WindowActionBody,
      auditTarget: (request) => ({
        action: `window.${actionOf(request) || 'unknown'}`,
        targetType: 'window',
        targetId: text(request.params.windowId),
        agentId: text(request.params.agentId),
        reason: reasonOf(request),
      }),
      responses: {
        200: { description: 'Done', schema: ActionResult },
        403: {
          description: "forbidden, control_disabled, or protected_process (the window's owner)",
        },
        ...relayErrors,
      },
      handler: async ({ params, body, caller }) => {
        const { commandId, data } = await s.relay.execute({
          actor: caller.username,
          agentId: params.agentId,
          command: { type: 'window.action', windowId: params.windowId, action: body.action },
          requires: [WINDOWS_CAPABILITY],
          audit: {
            action: `window.${body.action}`,
            targetType: 'window',
            targetId: params.windowId,
            reason: body.reason ?? null,
          },
        });
        return { status: 200, body: { commandId, status: 'succeeded', result: data ?? {} } };
      },
    }),
  ];
}
