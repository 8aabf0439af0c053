import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

import pluginJson from '../plugin.json';
import { DASHBOARD_DIR, DASHBOARD_FILES, loadDashboard, queryPanels } from '../test/dashboards';

/** The OpenTelemetry host and process metrics as the Collector's Prometheus exporter names them. */
const KNOWN_METRICS = new Set([
  'system_cpu_utilization_ratio',
  'system_cpu_load_average_1m',
  'system_cpu_load_average_5m',
  'system_cpu_load_average_15m',
  'system_memory_usage_bytes',
  'system_memory_utilization_ratio',
  'system_filesystem_usage_bytes',
  'system_filesystem_utilization_ratio',
  'system_network_io_bytes_total',
  'process_cpu_utilization_ratio',
  'process_memory_usage_bytes',
]);

const PROMQL_WORDS = new Set([
  'sum',
  'avg',
  'max',
  'min',
  'count',
  'topk',
  'rate',
  'by',
  'without',
  'or',
  'and',
  'unless',
  'vector',
]);

function metricNames(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '');
  const words = withoutLabels.match(/[a-z_][a-z0-9_]*/g) ?? [];
  // Names inside `by (…)` lists are labels, not metrics.
  const grouping = new Set(
    [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
      m[1]!.split(',').map((s) => s.trim()),
    ),
  );
  return words.filter((w) => !PROMQL_WORDS.has(w) && !grouping.has(w));
}

describe.each(DASHBOARD_FILES)('dashboard %s', (file) => {
  const dashboard = loadDashboard(file);

  it('is listed in plugin.json includes', () => {
    const paths = pluginJson.includes.filter((i) => i.type === 'dashboard').map((i) => i.path);
    expect(paths).toContain(`dashboards/${file}`);
  });

  it('picks its Prometheus data source and host through variables', () => {
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(variables.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.host_name?.type).toBe('query');
  });

  it('queries every panel through ${datasource}', () => {
    for (const panel of queryPanels(dashboard)) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.uid, panel.title).toBe('${datasource}');
        expect(target.expr, panel.title).toContain('host_name=~"$host_name"');
      }
    }
  });

  it('uses only known OpenTelemetry metric names', () => {
    for (const panel of queryPanels(dashboard)) {
      for (const target of panel.targets ?? []) {
        for (const name of metricNames(target.expr)) {
          expect(KNOWN_METRICS, `${panel.title}: ${target.expr}`).toContain(name);
        }
      }
    }
  });

  it('has unique panel ids and fits the 24-column grid', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });
});

describe('plugin.json', () => {
  it('includes only dashboards that exist', () => {
    for (const include of pluginJson.includes.filter((i) => i.type === 'dashboard')) {
      expect(existsSync(resolve(DASHBOARD_DIR, '..', include.path)), include.path).toBe(true);
    }
  });

  it('covers every metric the host overview promises', () => {
    const host = loadDashboard('host-overview.json');
    const used = new Set(
      queryPanels(host).flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr))),
    );
    expect([...KNOWN_METRICS].filter((m) => !used.has(m))).toEqual([]);
  });

  it('proxies reads for Viewers and actions for Editors, each with its own token', () => {
    const [read, act] = pluginJson.routes;
    expect(read).toMatchObject({ path: 'read', method: 'GET', reqRole: 'Viewer' });
    expect(act).toMatchObject({ path: 'act', method: 'POST', reqRole: 'Editor' });
    expect(read?.headers[0]?.content).toBe('Bearer {{ .SecureJsonData.readToken }}');
    expect(act?.headers[0]?.content).toBe('Bearer {{ .SecureJsonData.actToken }}');
    expect(read?.url).toBe('{{ .JsonData.apiUrl }}/api/v1');
  });
});
