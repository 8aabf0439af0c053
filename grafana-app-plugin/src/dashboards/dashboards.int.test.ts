/**
 * The dashboards' PromQL, evaluated by the real Prometheus engine (`promtool test rules`) on
 * series written both with the older `state` label and the newer `system_*_state` labels, so a
 * panel stays right whichever OpenTelemetry semantic-convention version the agent exports.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { requireBinary, runCommand } from '../../../e2e/support/processes.js';
import {
  loadDashboard,
  panelNamed,
  queryPanels,
  resolvedExpr,
  type Dashboard,
} from '../test/dashboards';

const PROMTOOL_HINT = 'Debian package prometheus; run scripts/setup-deps';

// web-1 reports with the newer attribute names, db-1 with the older ones. One sample a minute.
const INPUT_SERIES = [
  ['system_cpu_utilization_ratio{host_name="web-1", cpu="0", system_cpu_state="idle"}', '0.75x15'],
  ['system_cpu_utilization_ratio{host_name="web-1", cpu="0", system_cpu_state="user"}', '0.25x15'],
  ['system_cpu_utilization_ratio{host_name="web-1", cpu="1", system_cpu_state="idle"}', '0.25x15'],
  ['system_cpu_utilization_ratio{host_name="web-1", cpu="1", system_cpu_state="user"}', '0.75x15'],
  ['system_cpu_utilization_ratio{host_name="db-1", cpu="0", state="idle"}', '0.75x15'],
  ['system_cpu_utilization_ratio{host_name="db-1", cpu="0", state="system"}', '0.25x15'],
  ['system_memory_utilization_ratio{host_name="web-1", system_memory_state="used"}', '0.6x15'],
  ['system_memory_utilization_ratio{host_name="web-1", system_memory_state="free"}', '0.4x15'],
  ['system_memory_utilization_ratio{host_name="db-1", state="used"}', '0.3x15'],
  ['system_memory_usage_bytes{host_name="web-1", system_memory_state="used"}', '6000x15'],
  ['system_memory_usage_bytes{host_name="db-1", state="used"}', '3000x15'],
  [
    'system_filesystem_utilization_ratio{host_name="web-1", system_device="/dev/sda1", system_filesystem_mountpoint="/", system_filesystem_state="used"}',
    '0.95x15',
  ],
  [
    'system_filesystem_utilization_ratio{host_name="web-1", system_device="/dev/sdb1", system_filesystem_mountpoint="/data", system_filesystem_state="used"}',
    '0.2x15',
  ],
  [
    'system_filesystem_utilization_ratio{host_name="db-1", device="/dev/vda1", mountpoint="/", state="used"}',
    '0.5x15',
  ],
  [
    'system_network_io_bytes_total{host_name="web-1", system_device="eth0", network_io_direction="receive"}',
    '0+6000x15',
  ],
  [
    'system_network_io_bytes_total{host_name="web-1", system_device="eth0", network_io_direction="transmit"}',
    '0+3000x15',
  ],
  ['system_cpu_load_average_1m{host_name="web-1"}', '1.5x15'],
  ['system_cpu_load_average_5m{host_name="web-1"}', '1.25x15'],
  ['system_cpu_load_average_15m{host_name="web-1"}', '1x15'],
  [
    'process_cpu_utilization_ratio{host_name="web-1", process_pid="42", process_executable_name="postgres", state="user"}',
    '0.3x15',
  ],
  [
    'process_cpu_utilization_ratio{host_name="web-1", process_pid="42", process_executable_name="postgres", state="system"}',
    '0.1x15',
  ],
  [
    'process_cpu_utilization_ratio{host_name="web-1", process_pid="7", process_executable_name="nginx", state="user"}',
    '0.05x15',
  ],
  [
    'process_memory_usage_bytes{host_name="web-1", process_pid="42", process_executable_name="postgres"}',
    '1000000000x15',
  ],
  [
    'process_memory_usage_bytes{host_name="web-1", process_pid="7", process_executable_name="nginx"}',
    '50000000x15',
  ],
] as const;

interface Expectation {
  dashboard: Dashboard;
  panel: string;
  refId?: string;
  host: string;
  samples: Array<[labels: string, value: number]>;
}

const host = loadDashboard('host-overview.json');
const fleet = loadDashboard('fleet-overview.json');
const ALL = '.+';

const EXPECTATIONS: Expectation[] = [
  { dashboard: host, panel: 'CPU busy', host: 'web-1', samples: [['{host_name="web-1"}', 0.5]] },
  { dashboard: host, panel: 'CPU busy', host: 'db-1', samples: [['{host_name="db-1"}', 0.25]] },
  { dashboard: host, panel: 'Memory used', host: 'web-1', samples: [['{host_name="web-1"}', 0.6]] },
  { dashboard: host, panel: 'Memory used', host: 'db-1', samples: [['{host_name="db-1"}', 0.3]] },
  {
    dashboard: host,
    panel: 'Fullest filesystem',
    host: 'web-1',
    samples: [['{host_name="web-1"}', 0.95]],
  },
  {
    dashboard: host,
    panel: 'Fullest filesystem',
    host: 'db-1',
    samples: [['{host_name="db-1"}', 0.5]],
  },
  { dashboard: host, panel: 'Load (1m)', host: 'web-1', samples: [['{host_name="web-1"}', 1.5]] },
  {
    dashboard: host,
    panel: 'Load average',
    refId: 'C',
    host: 'web-1',
    samples: [['{host_name="web-1"}', 1]],
  },
  {
    dashboard: host,
    panel: 'Network throughput',
    host: 'web-1',
    samples: [
      ['{system_device="eth0", network_io_direction="receive"}', 100],
      ['{system_device="eth0", network_io_direction="transmit"}', 50],
    ],
  },
  {
    dashboard: host,
    panel: 'Top processes by CPU',
    host: 'web-1',
    samples: [
      ['{process_pid="42", process_executable_name="postgres"}', 0.4],
      ['{process_pid="7", process_executable_name="nginx"}', 0.05],
    ],
  },
  {
    dashboard: host,
    panel: 'Top processes by memory',
    host: 'web-1',
    samples: [
      ['{process_pid="42", process_executable_name="postgres"}', 1e9],
      ['{process_pid="7", process_executable_name="nginx"}', 5e7],
    ],
  },
  { dashboard: fleet, panel: 'Hosts reporting', host: ALL, samples: [['{}', 2]] },
  { dashboard: fleet, panel: 'Hosts with CPU > 90 %', host: ALL, samples: [['{}', 0]] },
  { dashboard: fleet, panel: 'Filesystems > 90 % full', host: ALL, samples: [['{}', 1]] },
  {
    dashboard: fleet,
    panel: 'CPU busy by host',
    host: ALL,
    samples: [
      ['{host_name="web-1"}', 0.5],
      ['{host_name="db-1"}', 0.25],
    ],
  },
  {
    dashboard: fleet,
    panel: 'Network throughput by host',
    host: ALL,
    samples: [['{host_name="web-1"}', 150]],
  },
];

function yamlString(value: string): string {
  return JSON.stringify(value);
}

function testFile(expectations: Expectation[]): string {
  const lines = [
    'rule_files: []',
    'evaluation_interval: 1m',
    'tests:',
    '  - interval: 1m',
    '    input_series:',
  ];
  for (const [series, values] of INPUT_SERIES) {
    lines.push(`      - series: ${yamlString(series)}`, `        values: ${yamlString(values)}`);
  }
  lines.push('    promql_expr_test:');
  for (const e of expectations) {
    const panel = panelNamed(e.dashboard, e.panel);
    const target = e.refId ? panel.targets?.find((t) => t.refId === e.refId) : panel.targets?.[0];
    if (!target) {
      throw new Error(`${e.panel} has no target ${e.refId ?? ''}`);
    }
    lines.push(
      `      - expr: ${yamlString(resolvedExpr(target, e.host))}`,
      '        eval_time: 10m',
      '        exp_samples:',
    );
    for (const [labels, value] of e.samples) {
      lines.push(`          - labels: ${yamlString(labels)}`, `            value: ${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('dashboard queries on the real PromQL engine', () => {
  it('every panel query parses', async () => {
    const promtool = requireBinary('promtool', PROMTOOL_HINT);
    const rules = [host, fleet].flatMap((dashboard) =>
      queryPanels(dashboard).flatMap((panel) =>
        (panel.targets ?? []).map((target, i) => ({
          record: `dashboard:${dashboard.uid.replace(/-/g, '_')}:${panel.id}_${i}`,
          expr: resolvedExpr(target, ALL),
        })),
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), 'grafana-plugin-'));
    const file = join(dir, 'dashboard-queries.yml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboards', rules }] }));
    const result = await runCommand(promtool, ['check', 'rules', file]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain(`${rules.length} rules found`);
  });

  it('panels compute the expected values for both label conventions', async () => {
    const promtool = requireBinary('promtool', PROMTOOL_HINT);
    const dir = mkdtempSync(join(tmpdir(), 'grafana-plugin-'));
    const file = join(dir, 'dashboard-test.yml');
    writeFileSync(file, testFile(EXPECTATIONS));
    const result = await runCommand(promtool, ['test', 'rules', file]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  });

  it('would notice a wrong value (the harness can fail)', async () => {
    const promtool = requireBinary('promtool', PROMTOOL_HINT);
    const dir = mkdtempSync(join(tmpdir(), 'grafana-plugin-'));
    const file = join(dir, 'dashboard-test-wrong.yml');
    writeFileSync(
      file,
      testFile([
        {
          dashboard: host,
          panel: 'CPU busy',
          host: 'web-1',
          samples: [['{host_name="web-1"}', 0.9]],
        },
      ]),
    );
    const result = await runCommand(promtool, ['test', 'rules', file]);
    expect(result.code).not.toBe(0);
  });
});
