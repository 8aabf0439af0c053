import type {
  ActionResult,
  Agent,
  AgentList,
  AuditList,
  AuditQuery,
  EventList,
  EventQuery,
  HistoryEvent,
  Me,
  ProcessAction,
  ProcessActionBody,
  ProcessInfo,
  ProcessList,
  WindowAction,
  WindowActionBody,
  WindowInfo,
  WindowList,
} from '@cybercorp/protocol';
import type { BackendSrv, BackendSrvRequest } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';

import { ACT_ROUTE, PAGE_SIZE, PROXY_BASE_URL, READ_ROUTE } from '../constants';
import { toApiError } from './problem';

export type BackendFetcher = Pick<BackendSrv, 'fetch'>;

/** What the Audit page filters by; the API applies every one of them. */
export type AuditFilter = Pick<AuditQuery, 'agentId' | 'actor' | 'action' | 'since' | 'until'>;
/** The most events one host's timeline asks for (the API's largest page). */
export const EVENT_PAGE_LIMIT = 500;
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

  listAgents(cursor?: string): Promise<AgentList> {
    return this.get<AgentList>('/agents', { cursor });
  }

  getAgent(agentId: string): Promise<Agent> {
    return this.get<Agent>(`/agents/${segment(agentId)}`);
  }

  async listProcesses(agentId: string): Promise<ProcessInfo[]> {
    const page = await this.get<ProcessList>(`/agents/${segment(agentId)}/processes`);
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
  ): Promise<ActionResult> {
    const body: ProcessActionBody = { action, reason, ...(startedAt ? { startedAt } : {}) };
    return this.post<ActionResult>(
      `/agents/${segment(agentId)}/processes/${segment(pid)}/actions`,
      body,
    );
  }

  async listWindows(agentId: string): Promise<WindowInfo[]> {
    const page = await this.get<WindowList>(`/agents/${segment(agentId)}/windows`);
    return page.items;
  }

  actOnWindow(agentId: string, windowId: string, action: WindowAction): Promise<ActionResult> {
    const body: WindowActionBody = { action };
    return this.post<ActionResult>(
      `/agents/${segment(agentId)}/windows/${segment(windowId)}/actions`,
      body,
    );
  }

  /** One page of the audit log, filtered by the API; `cursor` continues the same filtered list. */
  listAudit(filter: AuditFilter, cursor?: string): Promise<AuditList> {
    // Only parameter names the contract knows: the API refuses any other with a 400.
    const query = {
      agentId: filter.agentId,
      actor: filter.actor,
      action: filter.action,
      since: filter.since,
      until: filter.until,
      limit: PAGE_SIZE,
      cursor,
    } satisfies Record<keyof AuditQuery, string | number | undefined>;
    return this.get<AuditList>('/audit', query);
  }

  /**
   * The agent's events in [since, until] (RFC 3339), newest first: one page of at most
   * EVENT_PAGE_LIMIT; `truncated` says older ones in the range were left out.
   */
  async listEvents(
    agentId: string,
    since: string,
    until: string,
  ): Promise<{ items: HistoryEvent[]; truncated: boolean }> {
    const query = { agentId, since, until, limit: EVENT_PAGE_LIMIT } satisfies Partial<
      Record<keyof EventQuery, string | number>
    >;
    const page = await this.get<EventList>('/events', query);
    return { items: page.items, truncated: page.nextCursor !== null };
  }
}
