import type { BackendSrvRequest, FetchResponse } from '@grafana/runtime';
import { from, type Observable } from 'rxjs';
import type { HttpFailure } from './fakeBackend';

import pluginJson from '../plugin.json';

export type GrafanaRole = 'Viewer' | 'Editor' | 'Admin';
const RANK: Record<GrafanaRole, number> = { Viewer: 1, Editor: 2, Admin: 3 };

export interface PluginSettings {
  jsonData: Record<string, string>;
  secureJsonData: Record<string, string>;
}

function fill(template: string, settings: PluginSettings): string {
  return template
    .replace(/\{\{\s*\.JsonData\.(\w+)\s*\}\}/g, (_, key: string) => settings.jsonData[key] ?? '')
    .replace(
      /\{\{\s*\.SecureJsonData\.(\w+)\s*\}\}/g,
      (_, key: string) => settings.secureJsonData[key] ?? '',
    );
}

/** Grafana's backend service rejects with this plain object, not an Error. */
function failure(status: number, statusText: string, data: unknown): HttpFailure {
  return { status, statusText, data };
}

/**
 * Grafana's side of a plugin-proxy request, for tests against the real control API: picks the
 * plugin.json route by path prefix and method, checks the signed-in user's role against its
 * reqRole, fills the URL and headers from the plugin settings, and rejects non-2xx answers the
 * way Grafana's backend service does ({status, statusText, data}).
 */
export class GrafanaProxyFake {
  constructor(
    private readonly settings: PluginSettings,
    private readonly role: GrafanaRole,
  ) {}

  fetch = <T>(request: BackendSrvRequest): Observable<FetchResponse<T>> =>
    from(this.forward<T>(request));

  private async forward<T>(request: BackendSrvRequest): Promise<FetchResponse<T>> {
    const prefix = `/api/plugin-proxy/${pluginJson.id}/`;
    const method = request.method ?? 'GET';
    if (!request.url.startsWith(prefix)) {
      throw failure(404, 'Not Found', { message: 'Not found' });
    }
    const proxyPath = request.url.slice(prefix.length);
    const route = pluginJson.routes.find(
      (r) => proxyPath.startsWith(r.path) && (!r.method || r.method === method),
    );
    if (!route) {
      throw failure(404, 'Not Found', { message: 'plugin route match not found' });
    }
    if (RANK[this.role] < RANK[route.reqRole as GrafanaRole]) {
      throw failure(403, 'Forbidden', { message: 'plugin proxy route access denied' });
    }
    const target = new URL(fill(route.url, this.settings) + proxyPath.slice(route.path.length));
    for (const [key, value] of Object.entries((request.params ?? {}) as Record<string, unknown>)) {
      target.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {};
    for (const header of route.headers) {
      headers[header.name] = fill(header.content, this.settings);
    }
    let body: string | undefined;
    if (request.data !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(request.data);
    }
    const response = await fetch(target, { method, headers, body });
    const text = await response.text();
    const data: unknown = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (!response.ok) {
      throw failure(response.status, response.statusText, data);
    }
    return {
      data: data as T,
      status: response.status,
      statusText: response.statusText,
      ok: true,
      headers: response.headers,
      redirected: response.redirected,
      type: response.type,
      url: target.toString(),
      config: request,
    };
  }
}
