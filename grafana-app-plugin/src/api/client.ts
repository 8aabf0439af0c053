import type { BackendSrv, BackendSrvRequest } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';

import { ACT_ROUTE, PAGE_SIZE, PROXY_BASE_URL, READ_ROUTE } from '../constants';
import { toApiError } from './problem';
import type {
  Agent,
  AuditEvent,
  AuditFilter,
  CommandOutcome,
  Me,
  Page,
  ProcessAction,
  ProcessInfo,
  WindowAction,
  WindowInfo,
} from './types';

export type BackendFetcher = Pick<BackendSrv, 'fetch'>;
type Params = Record<string, string | number | undefined>;

function segment(value: string | number): string {
  return encodeURIComponent(String(value));
}

function definedParams(params: Params): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') {
      out[key] = value;
    }
  }
  return out;
}

/**
 * The one way the plugin talks to the control API: through Grafana's plugin proxy, reads on the
 * Viewer route and actions on the Editor route, every failure turned into an ApiError.
 */
export class FleetApiClient {
  constructor(
    private readonly backend: BackendFetcher,
    private readonly baseUrl: string = PROXY_BASE_URL,
  ) {}

  private async request<T>(
    route: string,
    path: string,
    init: Partial<BackendSrvRequest>,
  ): Promise<T> {
    const options: BackendSrvRequest = {
      url: `${this.baseUrl}/${route}${path}`,
      // The pages show errors themselves, with the API's detail; no global toast.
      showErrorAlert: false,
      showSuccessAlert: false,
      ...init,
    };
    try {
      const response = await lastValueFrom(this.backend.fetch<T>(options));
      return response.data;
    } catch (error) {
      throw toApiError(error);
    }
  }

  private get<T>(path: string, params: Params = {}): Promise<T> {
    return this.request<T>(READ_ROUTE, path, { method: 'GET', params: definedParams(params) });
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(ACT_ROUTE, path, {
      method: 'POST',
      data: body,
      headers: { 'Content-Type': 'application/json' },
    });
  }

  me(): Promise<Me> {
    return this.get<Me>('/me');
  }

  listAgents(cursor?: string): Promise<Page<Agent>> {
    return this.get<Page<Agent>>('/agents', { cursor });
  }

  getAgent(agentId: string): Promise<Agent> {
    return this.get<Agent>(`/agents/${segment(agentId)}`);
  }

  async listProcesses(agentId: string): Promise<ProcessInfo[]> {
    const page = await this.get<Page<ProcessInfo>>(`/agents/${segment(agentId)}/processes`);
    return page.items;
  }

  /**
   * `startedAt` is the start time of the row acted on: the agent refuses the action
   * (`process_changed`) if the pid has since been reused by another process.
   */
  actOnProcess(
    agentId: string,
    pid: number,
    action: ProcessAction,
    reason: string,
    startedAt?: string | null,
  ): Promise<CommandOutcome> {
    return this.post<CommandOutcome>(
      `/agents/${segment(agentId)}/processes/${segment(pid)}/actions`,
      {
        action,
        reason,
        ...(startedAt ? { startedAt } : {}),
      },
    );
  }

  async listWindows(agentId: string): Promise<WindowInfo[]> {
    const page = await this.get<Page<WindowInfo>>(`/agents/${segment(agentId)}/windows`);
    return page.items;
  }

  actOnWindow(agentId: string, windowId: string, action: WindowAction): Promise<CommandOutcome> {
    return this.post<CommandOutcome>(
      `/agents/${segment(agentId)}/windows/${segment(windowId)}/actions`,
      {
        action,
      },
    );
  }

  /** Asks the API for one page filtered by agent and actor, the filters it implements. */
  listAudit(filter: AuditFilter, cursor?: string): Promise<Page<AuditEvent>> {
    return this.get<Page<AuditEvent>>('/audit', {
      agentId: filter.agentId,
      actor: filter.actor,
      limit: PAGE_SIZE,
      cursor,
    });
  }
}
