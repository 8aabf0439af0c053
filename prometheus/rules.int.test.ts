/**
 * The shipped Prometheus, Alertmanager and Collector configurations, checked by the real tools:
 * promtool (config, rules, rule unit tests in prometheus/tests/), amtool, and the Collector
 * binary built from otel-config/builder-config.yaml.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  buildCollector,
  COLLECTOR_BUILD_TIMEOUT_MS,
  COLLECTOR_CONFIG,
  REPO_ROOT,
} from '../e2e/support/otelcol.js';
import { requireBinary, runCommand, type RunResult } from '../e2e/support/processes.js';

const PROMETHEUS_DIR = resolve(REPO_ROOT, 'prometheus');
const DEBIAN_PROMETHEUS = 'Debian package prometheus; run scripts/setup-deps';
const DEBIAN_ALERTMANAGER = 'Debian package prometheus-alertmanager; run scripts/setup-deps';

function yamlFiles(dir: string): string[] {
  return readdirSync(resolve(PROMETHEUS_DIR, dir))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => `${dir}/${f}`);
}

function outputOf(result: RunResult): string {
  return `${result.stdout}\n${result.stderr}`;
}

describe('prometheus/ with promtool', () => {
  it('prometheus.yml is a valid configuration whose rule files load', async () => {
    const promtool = requireBinary('promtool', DEBIAN_PROMETHEUS);
    const result = await runCommand(promtool, ['check', 'config', 'prometheus.yml'], {
      cwd: PROMETHEUS_DIR,
    });
    expect(result.code, outputOf(result)).toBe(0);
    // The glob rules/*.yml must pick up every rule file we ship.
    expect(result.stdout).toContain(`${yamlFiles('rules').length} rule files found`);
  });

  it('every rule file passes promtool check rules', async () => {
    const promtool = requireBinary('promtool', DEBIAN_PROMETHEUS);
    const files = yamlFiles('rules');
    expect(files.length).toBeGreaterThan(0);
    const result = await runCommand(promtool, ['check', 'rules', ...files], {
      cwd: PROMETHEUS_DIR,
    });
    expect(result.code, outputOf(result)).toBe(0);
  });

  it('the rule unit tests in prometheus/tests pass', async () => {
    const promtool = requireBinary('promtool', DEBIAN_PROMETHEUS);
    const files = yamlFiles('tests');
    expect(files.length).toBeGreaterThan(0);
    const result = await runCommand(promtool, ['test', 'rules', ...files], { cwd: PROMETHEUS_DIR });
    expect(result.code, outputOf(result)).toBe(0);
  });

  it('every alert rule carries a severity label and summary/description annotations', async () => {
    const promtool = requireBinary('promtool', DEBIAN_PROMETHEUS);
    // promtool's linter flags duplicate rules; the alerts' shape is read from the files.
    const lint = await runCommand(
      promtool,
      ['check', 'rules', '--lint=all', '--lint-fatal', ...yamlFiles('rules')],
      {
        cwd: PROMETHEUS_DIR,
      },
    );
    expect(lint.code, outputOf(lint)).toBe(0);
    const alerts: Array<{
      alert: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }> = [];
    for (const file of yamlFiles('rules')) {
      const doc = parse(readFileSync(resolve(PROMETHEUS_DIR, file), 'utf8')) as {
        groups: Array<{ rules: Array<Record<string, unknown>> }>;
      };
      for (const group of doc.groups) {
        for (const rule of group.rules)
          if (typeof rule.alert === 'string') alerts.push(rule as (typeof alerts)[0]);
      }
    }
    const names = new Set(alerts.map((a) => a.alert));
    for (const required of [
      'HostHighCpu',
      'HostHighMemory',
      'HostDiskAlmostFull',
      'AgentDown',
      'ControlApiHighErrorRate',
      'ControlApiDbPoolExhausted',
      'AgentWebSocketDisconnections',
    ]) {
      expect(names, `alert ${required}`).toContain(required);
    }
    for (const a of alerts) {
      expect(['critical', 'warning'], `${a.alert} severity`).toContain(a.labels?.severity);
      expect(a.annotations?.summary, `${a.alert} summary`).toBeTruthy();
      expect(a.annotations?.description, `${a.alert} description`).toBeTruthy();
    }
  });
});

describe('prometheus/tests coverage', () => {
  it('shows every alert both firing and not firing', () => {
    const alertNames = new Set<string>();
    for (const file of yamlFiles('rules')) {
      const doc = parse(readFileSync(resolve(PROMETHEUS_DIR, file), 'utf8')) as {
        groups: Array<{ rules: Array<{ alert?: string }> }>;
      };
      for (const group of doc.groups)
        for (const rule of group.rules) if (rule.alert) alertNames.add(rule.alert);
    }
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const file of yamlFiles('tests')) {
      const doc = parse(readFileSync(resolve(PROMETHEUS_DIR, file), 'utf8')) as {
        tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
      };
      for (const test of doc.tests) {
        for (const case_ of test.alert_rule_test ?? []) {
          ((case_.exp_alerts ?? []).length > 0 ? firing : quiet).add(case_.alertname);
        }
      }
    }
    expect(alertNames.size).toBeGreaterThan(0);
    expect(
      [...alertNames].filter((a) => !firing.has(a)),
      'alerts never shown firing',
    ).toEqual([]);
    expect(
      [...alertNames].filter((a) => !quiet.has(a)),
      'alerts never shown quiet',
    ).toEqual([]);
  });
});

describe('prometheus/alertmanager.yml with amtool', () => {
  it('passes amtool check-config', async () => {
    const amtool = requireBinary('amtool', DEBIAN_ALERTMANAGER);
    const result = await runCommand(amtool, ['check-config', 'alertmanager.yml'], {
      cwd: PROMETHEUS_DIR,
    });
    expect(result.code, outputOf(result)).toBe(0);
    expect(result.stdout).toContain('SUCCESS');
  });

  it('routes critical and warning alerts to their receivers', async () => {
    const amtool = requireBinary('amtool', DEBIAN_ALERTMANAGER);
    const route = async (severity: string) => {
      const result = await runCommand(
        amtool,
        [
          'config',
          'routes',
          'test',
          '--config.file=alertmanager.yml',
          `severity=${severity}`,
          'alertname=X',
        ],
        { cwd: PROMETHEUS_DIR },
      );
      expect(result.code, outputOf(result)).toBe(0);
      return result.stdout.trim();
    };
    expect(await route('critical')).toBe('webhook-critical');
    expect(await route('warning')).toBe('webhook');
  });
});

describe('otel-config/collector.yaml with the built Collector', () => {
  let collector = '';
  beforeAll(async () => {
    requireBinary('go', 'Go toolchain, needed by scripts/build-otelcol to build the Collector');
    collector = await buildCollector();
  }, COLLECTOR_BUILD_TIMEOUT_MS);

  it('validates with only the documented environment variables set', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      OTELCOL_OTLP_GRPC_ENDPOINT: '127.0.0.1:4317',
      OTELCOL_OTLP_HTTP_ENDPOINT: '127.0.0.1:4318',
      PROMETHEUS_REMOTE_WRITE_URL: 'http://127.0.0.1:9090/api/v1/write',
    };
    const result = await runCommand(collector, ['validate', `--config=${COLLECTOR_CONFIG}`], {
      env,
    });
    expect(result.code, outputOf(result)).toBe(0);
  });

  it('validates with no environment at all (compose defaults)', async () => {
    const result = await runCommand(collector, ['validate', `--config=${COLLECTOR_CONFIG}`], {
      env: { PATH: process.env.PATH },
    });
    expect(result.code, outputOf(result)).toBe(0);
  });

  it('rejects a broken configuration (the validation is real)', async () => {
    const result = await runCommand(
      collector,
      [
        'validate',
        `--config=${COLLECTOR_CONFIG}`,
        '--set=service.pipelines.metrics.exporters=[nosuchexporter]',
      ],
      { env: { PATH: process.env.PATH } },
    );
    expect(result.code).not.toBe(0);
    expect(outputOf(result)).toMatch(/nosuchexporter/);
  });
});
