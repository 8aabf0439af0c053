import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../dashboards');
export const DASHBOARD_FILES = ['host-overview.json', 'fleet-overview.json'] as const;

export interface Target {
  expr: string;
  refId: string;
  datasource?: { type?: string; uid?: string };
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; multi?: boolean }> };
}

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(resolve(DASHBOARD_DIR, file), 'utf8')) as Dashboard;
}

export function queryPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.filter((panel) => panel.type !== 'row');
}

export function panelNamed(dashboard: Dashboard, title: string): Panel {
  const panel = dashboard.panels.find((p) => p.title === title);
  if (!panel) {
    throw new Error(`${dashboard.uid} has no panel titled "${title}"`);
  }
  return panel;
}

/** A panel's query as Grafana would send it, with the dashboard variables filled in. */
export function resolvedExpr(target: Target, hostName: string): string {
  return target.expr.replace(/\$host_name/g, hostName).replace(/\$__rate_interval/g, '5m');
}
