import type { ActionResult, ProcessAction, WindowAction } from '@cybercorp/protocol';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { EVENTS_REFRESH_MS, LIVE_REFRESH_MS } from '../constants';
import { useApiClient } from './context';
import type { ApiError } from './problem';
import type { AuditFilter } from './client';

declare module '@tanstack/react-query' {
  // Every query and mutation of the plugin fails with an ApiError (see FleetApiClient).
  interface Register {
    defaultError: ApiError;
  }
}

/** Every cache entry the plugin keeps, so invalidation after an action hits exactly its list. */
export const queryKeys = {
  me: ['me'] as const,
  agents: ['agents'] as const,
  agent: (agentId: string) => ['agents', agentId] as const,
  processes: (agentId: string) => ['agents', agentId, 'processes'] as const,
  windows: (agentId: string) => ['agents', agentId, 'windows'] as const,
  audit: (filter: AuditFilter) => ['audit', filter] as const,
  events: (agentId: string, windowMs: number) =>
    ['agents', agentId, 'events', { windowMs }] as const,
};

export function useAgents() {
  const client = useApiClient();
  return useInfiniteQuery({
    queryKey: queryKeys.agents,
    queryFn: ({ pageParam }) => client.listAgents(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useAgent(agentId: string) {
  const client = useApiClient();
  return useQuery({ queryKey: queryKeys.agent(agentId), queryFn: () => client.getAgent(agentId) });
}

export function useProcesses(agentId: string) {
  const client = useApiClient();
  return useQuery({
    queryKey: queryKeys.processes(agentId),
    queryFn: () => client.listProcesses(agentId),
    refetchInterval: LIVE_REFRESH_MS,
  });
}

export function useWindows(agentId: string) {
  const client = useApiClient();
  return useQuery({
    queryKey: queryKeys.windows(agentId),
    queryFn: () => client.listWindows(agentId),
    refetchInterval: LIVE_REFRESH_MS,
  });
}

export function useAudit(filter: AuditFilter) {
  const client = useApiClient();
  return useInfiniteQuery({
    queryKey: queryKeys.audit(filter),
    queryFn: ({ pageParam }) => client.listAudit(filter, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/**
 * The agent's events of the last `windowMs`, with the range they were asked for: each fetch
 * (every minute, or after an action here) moves the range up to its own now.
 */
export function useEvents(agentId: string, windowMs: number) {
  const client = useApiClient();
  return useQuery({
    queryKey: queryKeys.events(agentId, windowMs),
    queryFn: async () => {
      const until = new Date();
      const since = new Date(until.getTime() - windowMs);
      const page = await client.listEvents(agentId, since.toISOString(), until.toISOString());
      return { ...page, since, until };
    },
    refetchInterval: EVENTS_REFRESH_MS,
  });
}

export interface ProcessActionInput {
  pid: number;
  /** The listed row's start time, so that a reused pid is refused rather than signalled. */
  startedAt?: string | null;
  action: ProcessAction;
  reason: string;
}

export function useProcessAction(agentId: string) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation<ActionResult, ApiError, ProcessActionInput>({
    mutationFn: ({ pid, startedAt, action, reason }) =>
      client.actOnProcess(agentId, pid, action, reason, startedAt),
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.processes(agentId) });
      // The action is one of the host's events now: its timeline is fetched again.
      await queryClient.invalidateQueries({ queryKey: [...queryKeys.agent(agentId), 'events'] });
    },
  });
}

export interface WindowActionInput {
  windowId: string;
  action: WindowAction;
}

export function useWindowAction(agentId: string) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation<ActionResult, ApiError, WindowActionInput>({
    mutationFn: ({ windowId, action }) => client.actOnWindow(agentId, windowId, action),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.windows(agentId) }),
  });
}
