import type { ActionResult, ProcessAction, WindowAction } from '@cybercorp/protocol';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { LIVE_REFRESH_MS } from '../constants';
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
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.processes(agentId) }),
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
