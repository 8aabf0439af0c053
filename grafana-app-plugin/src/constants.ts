import pluginJson from './plugin.json';

export const PLUGIN_ID = pluginJson.id;
export const PLUGIN_BASE_URL = `/a/${PLUGIN_ID}`;

/** Pages of the app, relative to PLUGIN_BASE_URL. */
export enum ROUTES {
  Fleet = 'fleet',
  Hosts = 'hosts',
  Audit = 'audit',
}

export enum HOST_TABS {
  Processes = 'processes',
  Windows = 'windows',
}

/**
 * Grafana's plugin proxy forwards `/api/plugin-proxy/<plugin id>/<route path>/…` to the control
 * API and adds the service token of that route, so the browser never holds a token. The read route
 * accepts GET from Viewers, the act route POST from Editors (see `routes` in plugin.json).
 */
export const PROXY_BASE_URL = `/api/plugin-proxy/${PLUGIN_ID}`;
export const READ_ROUTE = 'read';
export const ACT_ROUTE = 'act';

export const SETTINGS_URL = `/api/plugins/${PLUGIN_ID}/settings`;

/** Live lists (processes, windows) refresh this often while their tab is open. */
export const LIVE_REFRESH_MS = 5_000;
export const PAGE_SIZE = 100;
/** The Host page's event timeline covers this much of the past, refreshed this often. */
export const EVENTS_WINDOW_MS = 24 * 60 * 60 * 1000;
export const EVENTS_REFRESH_MS = 60_000;

export function prefixRoute(route: string): string {
  return `${PLUGIN_BASE_URL}/${route}`;
}

export function hostUrl(agentId: string, tab: HOST_TABS = HOST_TABS.Processes): string {
  return prefixRoute(`${ROUTES.Hosts}/${encodeURIComponent(agentId)}/${tab}`);
}

/** The bundled Host overview dashboard (uid from src/dashboards/host-overview.json) for one host. */
export function hostDashboardUrl(hostname: string): string {
  return `/d/cybercorp-host-overview/cybercorp-host-overview?var-host_name=${encodeURIComponent(hostname)}`;
}

/**
 * The bundled Host history dashboard (uid from src/dashboards/host-history.json) for one host:
 * its charts carry the same events as annotations.
 */
export function hostHistoryDashboardUrl(hostname: string): string {
  return `/d/cybercorp-host-history/cybercorp-host-history?var-host=${encodeURIComponent(hostname)}`;
}
