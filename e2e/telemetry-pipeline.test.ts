/**
 * The telemetry path end to end with real binaries: the OTel JS SDK exporting the agent's
 * semantic-convention host metrics (names, units and attributes as collector-agent emits them,
 * values the test controls) --OTLP gRPC--> the built Collector with the shipped
 * otel-config/collector.yaml --remote write--> Prometheus 2.42 with the shipped rules and one
 * test alert on the shipped CPU recording rule --> Alertmanager with the shipped routing -->
 * a webhook on loopback.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessTable } from '../collector-agent/src/index.js';
import { startTelemetry, type Telemetry } from '../collector-agent/src/metrics/index.js';
import { parse, stringify } from 'yaml';
import {
  buildCollector,
  COLLECTOR_BUILD_TIMEOUT_MS,
  REPO_ROOT,
  startCollector,
  type RunningCollector,
} from './support/otelcol.js';
import { freePort, requireBinary, waitFor } from './support/processes.js';
import {
  prometheusAlerts,
  prometheusRules,
  queryPrometheus,
  startAlertmanager,
  startPrometheus,
  type RunningServer,
} from './support/prometheus.js';

/** The test alert fires when the host's CPU utilization (host:cpu_utilization:avg) exceeds this. */
const CPU_THRESHOLD = 0.5;
const HOST_NAME = `e2e-host-${randomUUID().slice(0, 8)}`;
/** host.name of the real agent telemetry (collector-agent) running beside the synthetic one. */
const AGENT_HOST_NAME = `e2e-agent-${randomUUID().slice(0, 8)}`;
const INSTANCE_ID = randomUUID();

interface WebhookPayload {
  receiver: string;
  status: string;
  alerts: Array<{
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }>;
}

/** Collects Alertmanager webhook notifications. */
class WebhookReceiver {
  readonly received: WebhookPayload[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload);
        res.writeHead(200).end();
      });
    });
    const server = this.server;
    await new Promise<void>((ok) => server.listen(this.port, '127.0.0.1', ok));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((ok) => server.close(() => ok()));
  }
}

/** The shipped alertmanager.yml with the webhook URLs pointed at the test and short waits. */
function testAlertmanagerConfig(webhookPort: number): string {
  const config = parse(readFileSync(resolve(REPO_ROOT, 'prometheus/alertmanager.yml'), 'utf8')) as {
    route: Record<string, unknown> & { routes?: Array<Record<string, unknown>> };
    receivers: Array<{ webhook_configs?: Array<{ url: string }> }>;
  };
  for (const receiver of config.receivers) {
    for (const hook of receiver.webhook_configs ?? []) {
      hook.url = hook.url.replace(/^https?:\/\/[^/]+/, `http://127.0.0.1:${webhookPort}`);
    }
  }
  for (const route of [config.route, ...(config.route.routes ?? [])]) {
    route.group_wait = '1s';
    route.group_interval = '1s';
  }
  return stringify(config);
}

function testPrometheusConfig(
  alertmanagerPort: number,
  collectorMetricsUrl: string,
  testRules: string,
): string {
  const collectorTarget = new URL(collectorMetricsUrl).host;
  return stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [resolve(REPO_ROOT, 'prometheus/rules/*.yml'), testRules],
    alerting: {
      alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanagerPort}`] }] }],
    },
    scrape_configs: [
      { job_name: 'otel-collector', static_configs: [{ targets: [collectorTarget] }] },
    ],
  });
}

function testRules(threshold: number): string {
  return stringify({
    groups: [
      {
        name: 'e2e-cpu-threshold',
        rules: [
          {
            alert: 'E2eCpuAboveThreshold',
            expr: `host:cpu_utilization:avg{host_name="${HOST_NAME}"} > ${threshold}`,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'e2e CPU threshold',
              description: 'CPU on {{ $labels.host_name }} above threshold',
            },
          },
        ],
      },
    ],
  });
}

/** Values the agent would measure; the test changes them to move the alert. */
interface HostState {
  cpuIdle: number;
}

/**
 * Registers gauges and counters with the agent's semconv names, units and attributes (see
 * collector-agent/src/metrics/semconv.ts) on `meterProvider`.
 */
function registerAgentLikeMetrics(meterProvider: MeterProvider, host: HostState): void {
  const meter = meterProvider.getMeter('@cybercorp/collector-agent');
  const started = Date.now();
  const cpus = [0, 1];
  meter.createObservableGauge('system.cpu.utilization', { unit: '1' }).addCallback((r) => {
    for (const cpu of cpus) {
      r.observe(host.cpuIdle, { 'cpu.mode': 'idle', 'cpu.logical_number': cpu });
      r.observe(1 - host.cpuIdle, { 'cpu.mode': 'user', 'cpu.logical_number': cpu });
    }
  });
  meter.createObservableCounter('system.cpu.time', { unit: 's' }).addCallback((r) => {
    for (const cpu of cpus)
      r.observe((Date.now() - started) / 1000, { 'cpu.mode': 'idle', 'cpu.logical_number': cpu });
  });
  meter.createObservableUpDownCounter('system.memory.usage', { unit: 'By' }).addCallback((r) => {
    r.observe(6e9, { 'system.memory.state': 'used' });
    r.observe(2e9, { 'system.memory.state': 'free' });
  });
  meter.createObservableGauge('system.memory.utilization', { unit: '1' }).addCallback((r) => {
    r.observe(0.75, { 'system.memory.state': 'used' });
    r.observe(0.25, { 'system.memory.state': 'free' });
  });
  meter.createObservableCounter('system.network.io', { unit: 'By' }).addCallback((r) => {
    const bytes = Date.now() - started;
    r.observe(bytes, { 'network.interface.name': 'eth0', 'network.io.direction': 'receive' });
    r.observe(bytes * 2, { 'network.interface.name': 'eth0', 'network.io.direction': 'transmit' });
  });
  meter
    .createObservableUpDownCounter('system.filesystem.usage', { unit: 'By' })
    .addCallback((r) => {
      const root = {
        'system.device': '/dev/sda1',
        'system.filesystem.mountpoint': '/',
        'system.filesystem.type': 'ext4',
        'system.filesystem.mode': 'rw',
      };
      r.observe(60e9, { ...root, 'system.filesystem.state': 'used' });
      r.observe(30e9, { ...root, 'system.filesystem.state': 'free' });
      r.observe(10e9, { ...root, 'system.filesystem.state': 'reserved' });
    });
  meter
    .createObservableGauge('system.cpu.load_average.1m', { unit: '{thread}' })
    .addCallback((r) => r.observe(0.42));
}

describe('telemetry pipeline: SDK -> Collector -> Prometheus -> Alertmanager -> webhook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'telemetry-pipeline-'));
  const webhook = new WebhookReceiver();
  let alertmanager: RunningServer | undefined;
  let prometheus: RunningServer | undefined;
  let collector: RunningCollector | undefined;
  let meterProvider: MeterProvider | undefined;
  let agentTelemetry: Telemetry | undefined;
  const host: HostState = { cpuIdle: 0.7 };

  beforeAll(async () => {
    requireBinary('prometheus', 'Debian package prometheus; run scripts/setup-deps');
    requireBinary(
      'prometheus-alertmanager',
      'Debian package prometheus-alertmanager; run scripts/setup-deps',
    );
    requireBinary('go', 'Go toolchain, needed by scripts/build-otelcol to build the Collector');
    const binary = await buildCollector();

    await webhook.start();
    writeFileSync(join(dir, 'alertmanager.yml'), testAlertmanagerConfig(webhook.port));
    alertmanager = await startAlertmanager(join(dir, 'alertmanager.yml'), dir);

    // Prometheus needs the Collector's metrics port for its scrape config, and the Collector
    // needs Prometheus's URL; the Collector retries remote write, so it starts first.
    const prometheusPort = await freePort();
    collector = await startCollector(binary, `http://127.0.0.1:${prometheusPort}/api/v1/write`);
    writeFileSync(join(dir, 'e2e-rules.yml'), testRules(CPU_THRESHOLD));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      testPrometheusConfig(alertmanager.port, collector.metricsUrl, join(dir, 'e2e-rules.yml')),
    );
    prometheus = await startPrometheus(join(dir, 'prometheus.yml'), dir, prometheusPort);

    meterProvider = new MeterProvider({
      resource: resourceFromAttributes({
        'service.name': 'cybercorp-agent',
        'service.instance.id': INSTANCE_ID,
        'host.name': HOST_NAME,
      }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `http://${collector.grpcEndpoint}` }),
          exportIntervalMillis: 1_000,
          exportTimeoutMillis: 900,
        }),
      ],
    });
    registerAgentLikeMetrics(meterProvider, host);

    // The agent's own host collectors, reading this machine's /proc, as a second host.
    agentTelemetry = startTelemetry({
      resource: resourceFromAttributes({
        'service.name': 'cybercorp-agent',
        'host.name': AGENT_HOST_NAME,
      }),
      serviceInstanceId: randomUUID(),
      processTable: createProcessTable(),
      topN: 3,
      exportIntervalMillis: 1_000,
      exporter: new OTLPMetricExporter({ url: `http://${collector.grpcEndpoint}` }),
    });
  }, COLLECTOR_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await meterProvider?.shutdown().catch(() => undefined);
    await agentTelemetry?.shutdown().catch(() => undefined);
    await collector?.stop();
    await prometheus?.stop();
    await alertmanager?.stop();
    await webhook.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const prom = () => {
    if (!prometheus) throw new Error('Prometheus did not start');
    return prometheus.url;
  };

  /** Waits until `promql` returns at least one sample. */
  const samplesOf = (promql: string, timeoutMs = 30_000) =>
    waitFor(
      `${promql} in Prometheus`,
      async () => {
        const result = await queryPrometheus(prom(), promql);
        return result.length > 0 ? result : undefined;
      },
      { timeoutMs, intervalMs: 500, process: collector?.process },
    );

  it('Prometheus stores the agent metrics under suffixed names with resource labels', async () => {
    const selector = `{host_name="${HOST_NAME}"}`;
    // The first remote write can take a batch timeout (5 s) plus the exporter's retries.
    await samplesOf(`system_cpu_utilization_ratio${selector}`, 60_000);
    const names = [
      'system_cpu_utilization_ratio',
      'system_cpu_time_seconds_total',
      'system_memory_usage_bytes',
      'system_memory_utilization_ratio',
      'system_network_io_bytes_total',
      'system_filesystem_usage_bytes',
      'system_cpu_load_average_1m',
    ];
    for (const name of names) {
      for (const s of await samplesOf(`${name}${selector}`)) {
        expect(s.metric.host_name).toBe(HOST_NAME);
        expect(s.metric.service_instance_id).toBe(INSTANCE_ID);
        expect(s.metric.service_name).toBe('cybercorp-agent');
        expect(s.metric.job).toBe('cybercorp-agent');
        expect(s.metric.instance).toBe(INSTANCE_ID);
      }
    }
    // Attribute keys become these label names; prometheus/rules/*.yml select on them.
    const cpu = await samplesOf(`system_cpu_utilization_ratio${selector}`);
    expect(new Set(cpu.map((s) => s.metric.cpu_mode))).toEqual(new Set(['idle', 'user']));
    expect(new Set(cpu.map((s) => s.metric.cpu_logical_number))).toEqual(new Set(['0', '1']));
    const memory = await samplesOf(`system_memory_usage_bytes${selector}`);
    expect(new Set(memory.map((s) => s.metric.system_memory_state))).toEqual(
      new Set(['used', 'free']),
    );
    const network = await samplesOf(`system_network_io_bytes_total${selector}`);
    expect(new Set(network.map((s) => s.metric.network_io_direction))).toEqual(
      new Set(['receive', 'transmit']),
    );
    expect(network.every((s) => s.metric.network_interface_name === 'eth0')).toBe(true);
    const [load] = await samplesOf(`system_cpu_load_average_1m${selector}`);
    expect(Number(load?.value[1])).toBe(0.42);
  });

  it('the shipped recording rules compute CPU, memory and disk utilization from that data', async () => {
    const valueOf = async (rule: string) => {
      const [sample] = await samplesOf(`${rule}{host_name="${HOST_NAME}"}`);
      return Number(sample?.value[1]);
    };
    expect(await valueOf('host:cpu_utilization:avg')).toBeCloseTo(1 - host.cpuIdle, 6);
    expect(await valueOf('host:memory_utilization:ratio')).toBeCloseTo(0.75, 6);
    // used / (used + free): the 10 GB reserved for root count as neither, as in `df`.
    expect(await valueOf('host:filesystem_utilization:ratio')).toBeCloseTo(60 / 90, 6);
  });

  it("the real agent's host metrics feed every host recording rule", async () => {
    for (const rule of [
      'host:cpu_utilization:avg',
      'host:memory_utilization:ratio',
      'host:filesystem_utilization:ratio',
    ]) {
      const samples = await samplesOf(`${rule}{host_name="${AGENT_HOST_NAME}"}`, 60_000);
      for (const sample of samples) {
        const value = Number(sample.value[1]);
        expect(value, `${rule} ${JSON.stringify(sample.metric)}`).toBeGreaterThanOrEqual(0);
        expect(value, `${rule} ${JSON.stringify(sample.metric)}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('every rule group evaluates without errors', async () => {
    const rules = await waitFor(
      'every rule to have been evaluated',
      async () => {
        const all = await prometheusRules(prom());
        return all.length > 0 && all.every((r) => r.health !== 'unknown') ? all : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(rules.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'host:cpu_utilization:avg',
        'host:filesystem_utilization:ratio',
        'HostHighCpu',
        'AgentDown',
        'ControlApiHighErrorRate',
        'E2eCpuAboveThreshold',
      ]),
    );
    const broken = rules
      .filter((r) => r.health !== 'ok')
      .map((r) => `${r.group}/${r.name}: ${r.lastError}`);
    expect(broken).toEqual([]);
  });

  it('the test alert stays quiet while CPU is below its threshold', async () => {
    const [cpu] = await samplesOf(`host:cpu_utilization:avg{host_name="${HOST_NAME}"}`);
    expect(Number(cpu?.value[1])).toBeLessThan(CPU_THRESHOLD);
    // Let the alert rule evaluate twice more on that data before looking.
    const seen = Date.now();
    await waitFor(
      'two more evaluations of E2eCpuAboveThreshold',
      async () => {
        const rule = (await prometheusRules(prom())).find((r) => r.name === 'E2eCpuAboveThreshold');
        return rule?.lastEvaluation && Date.parse(rule.lastEvaluation) > seen + 1_000
          ? rule
          : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    const alerts = await prometheusAlerts(prom());
    expect(alerts.filter((a) => a.labels.alertname === 'E2eCpuAboveThreshold')).toEqual([]);
    const notified = webhook.received.flatMap((p) => p.alerts);
    expect(notified.filter((a) => a.labels.alertname === 'E2eCpuAboveThreshold')).toEqual([]);
  });

  it('CPU above the threshold fires the alert and the webhook gets it through Alertmanager', async () => {
    host.cpuIdle = 0.1;
    const notified = await waitFor(
      'the E2eCpuAboveThreshold notification at the webhook',
      async () =>
        webhook.received.find((p) =>
          p.alerts.some(
            (a) => a.labels.alertname === 'E2eCpuAboveThreshold' && a.status === 'firing',
          ),
        ),
      { timeoutMs: 60_000, intervalMs: 500, process: alertmanager?.process },
    );
    // severity=warning goes to the `webhook` receiver of the shipped routing tree.
    expect(notified.receiver).toBe('webhook');
    const alert = notified.alerts.find((a) => a.labels.alertname === 'E2eCpuAboveThreshold');
    expect(alert?.labels.host_name).toBe(HOST_NAME);
    expect(alert?.labels.severity).toBe('warning');
    expect(alert?.annotations.description).toBe(`CPU on ${HOST_NAME} above threshold`);
    const [cpu] = await queryPrometheus(
      prom(),
      `host:cpu_utilization:avg{host_name="${HOST_NAME}"}`,
    );
    expect(Number(cpu?.value[1])).toBeCloseTo(0.9, 6);
  });

  it("Prometheus scrapes the Collector's own telemetry", async () => {
    const accepted = await waitFor(
      'otelcol_receiver_accepted_metric_points from the Collector',
      async () => {
        const result = await queryPrometheus(
          prom(),
          '{job="otel-collector", __name__=~"otelcol_receiver_accepted_metric_points.*", receiver="otlp"}',
        );
        return result.length > 0 ? result : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(accepted.some((s) => Number(s.value[1]) > 0)).toBe(true);
  });
});
