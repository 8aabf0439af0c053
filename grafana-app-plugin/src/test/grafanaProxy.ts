/**
 * Grafana's plugin proxy, the one stand-in used by every test that sends the plugin's requests to
 * a real control API: the plugin's contract test (in process, behind FetchBackendSrv) and the
 * browser test (behind the harness server in e2e/support/plugin-harness.ts). It follows
 * plugin.json's `routes` as Grafana does: matches the route by path prefix and method, checks the
 * signed-in user's Grafana role against `reqRole`, and fills the target URL and headers from the
 * plugin's jsonData and secureJsonData. The secrets never leave this object.
 *
 * No imports: it is loaded by the plugin's tests and by the e2e tests alike.
 */

export type GrafanaRole = 'Viewer' | 'Editor' | 'Admin';
const RANK: Record<GrafanaRole, number> = { Viewer: 1, Editor: 2, Admin: 3 };

export interface PluginRoute {
  path: string;
  method?: string;
  reqRole?: string;
  url: string;
  headers?: Array<{ name: string; content: string }>;
}

/** The parts of plugin.json the proxy reads. */
export interface PluginProxyConfig {
  id: string;
  routes: PluginRoute[];
}

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

/** Answers the way Grafana's API does: JSON with a `message`. */
export function grafanaError(status: number, statusText: string, message: string): Response {
  return new Response(JSON.stringify({ message }), {
    status,
    statusText,
    headers: { 'content-type': 'application/json' },
  });
}

export class GrafanaProxyFake {
  /** Where the plugin's requests go: `/api/plugin-proxy/<plugin id>/<route path>/…`. */
  readonly prefix: string;

  constructor(
    private readonly options: {
      plugin: PluginProxyConfig;
      settings: PluginSettings;
      /** The signed-in Grafana user's role. */
      role: GrafanaRole;
      /** Named in X-Grafana-User, as Grafana does with `send_user_header = true`. */
      grafanaUser?: string;
    },
  ) {
    this.prefix = `/api/plugin-proxy/${options.plugin.id}/`;
  }

  /**
   * A `fetch` as the browser would call Grafana with it (URLs relative to Grafana's origin):
   * plugin-proxy requests are forwarded to the route's target, everything else is Grafana's 404.
   */
  readonly fetch = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input, 'http://grafana.invalid');
    if (!url.pathname.startsWith(this.prefix)) return grafanaError(404, 'Not Found', 'Not found');
    const proxyPath = url.pathname.slice(this.prefix.length) + url.search;
    const method = init.method ?? 'GET';
    const { plugin, settings, role, grafanaUser } = this.options;
    const route = plugin.routes.find(
      (r) =>
        (proxyPath === r.path || proxyPath.startsWith(`${r.path}/`)) &&
        (!r.method || r.method === method),
    );
    if (!route) return grafanaError(404, 'Not Found', 'plugin route match not found');
    if (RANK[role] < (RANK[(route.reqRole ?? 'Viewer') as GrafanaRole] ?? Infinity)) {
      return grafanaError(403, 'Forbidden', 'plugin proxy route access denied');
    }
    const target = new URL(fill(route.url, settings) + proxyPath.slice(route.path.length));
    // Only what Grafana forwards: the route's headers replace the browser's credentials.
    const headers: Record<string, string> = { accept: 'application/json' };
    const contentType = new Headers(init.headers).get('content-type');
    if (contentType) headers['content-type'] = contentType;
    if (grafanaUser !== undefined) headers['x-grafana-user'] = grafanaUser;
    for (const header of route.headers ?? []) headers[header.name] = fill(header.content, settings);
    const body = method === 'GET' || method === 'HEAD' ? undefined : init.body;
    return fetch(target, { method, headers, body });
  };
}
