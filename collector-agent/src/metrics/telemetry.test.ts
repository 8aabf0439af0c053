import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, InMemoryMetricExporter } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import {
  exportIntervalFromEnv,
  metricsExporterFromEnv,
  startTelemetry,
  type Telemetry,
} from './telemetry.js';
import { FakeProcessTable, FixtureHostFiles, processSample } from './test-support/fixtures.js';

const PROC = {
  stat: 'cpu  1 0 1 1 0 0 0 0\ncpu0 1 0 1 1 0 0 0 0\n',
  meminfo: 'MemTotal: 1000 kB\nMemFree: 400 kB\nBuffers: 100 kB\nCached: 100 kB\n',
  'net/dev': 'h\nh\n  lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n',
  'self/mounts': '/dev/vda / ext4 rw 0 0\nproc /proc proc rw 0 0\n',
  diskstats: ' 253 0 vda 1 0 1 0 1 0 1 0 0 1 0\n',
  loadavg: '0.10 0.20 0.30 1/10 100\n',
  uptime: '100.0 50.0\n',
};

describe('exportIntervalFromEnv', () => {
  it('defaults to 10 s and honours OTEL_METRIC_EXPORT_INTERVAL', () => {
    expect(exportIntervalFromEnv({})).toBe(10_000);
    expect(exportIntervalFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: '2500' })).toBe(2500);
  });

  it('rejects a value that is not a positive integer with a stable code', () => {
    expect(() => exportIntervalFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: 'soon' })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
  });
});

describe('metricsExporterFromEnv', () => {
  it('takes otlp by default and none to switch export off, as OTEL_METRICS_EXPORTER says', () => {
    expect(metricsExporterFromEnv({})).toBe('otlp');
    expect(metricsExporterFromEnv({ OTEL_METRICS_EXPORTER: 'otlp' })).toBe('otlp');
    expect(metricsExporterFromEnv({ OTEL_METRICS_EXPORTER: 'none' })).toBe('none');
  });

  it('refuses an exporter the agent does not offer with a stable code', () => {
    expect(() => metricsExporterFromEnv({ OTEL_METRICS_EXPORTER: 'prometheus' })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
  });
});

describe('startTelemetry', () => {
  let telemetry: Telemetry | undefined;
  afterEach(() => telemetry?.shutdown());

  it('exports every host metric and the top processes with the agent resource and service.instance.id', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const table = new FakeProcessTable([processSample({ pid: 42, name: 'worker', cpuSeconds: 5 })]);
    telemetry = startTelemetry({
      resource: resourceFromAttributes({ 'host.name': 'web-1', 'service.name': 'cybercorp-agent' }),
      serviceInstanceId: '0f9b3c52-5b7e-4f7a-9d8e-3f1d2c4b5a69',
      processTable: table,
      topN: 10,
      exporter,
      exportIntervalMillis: 60_000,
      files: new FixtureHostFiles(PROC, {
        '/': { blockSize: 4096, blocks: 10, freeBlocks: 5, availableBlocks: 5 },
      }),
      cpuCount: 1,
      logger: { info: () => {}, warn: (m) => expect.fail(m) },
    });
    await telemetry.forceFlush();
    const [exported] = exporter.getMetrics();
    expect(exported?.resource.attributes).toMatchObject({
      'host.name': 'web-1',
      'service.instance.id': '0f9b3c52-5b7e-4f7a-9d8e-3f1d2c4b5a69',
    });
    const names = exported?.scopeMetrics
      .flatMap((s) => s.metrics.map((m) => m.descriptor.name))
      .sort();
    expect(names).toEqual([
      'cybercorp.agent.export.buffer.dropped',
      'cybercorp.agent.export.buffer.intervals',
      'cybercorp.agent.export.buffer.limit',
      'cybercorp.agent.export.buffer.size',
      'process.cpu.time',
      'process.cpu.utilization',
      'process.memory.usage',
      'system.cpu.load_average.15m',
      'system.cpu.load_average.1m',
      'system.cpu.load_average.5m',
      'system.cpu.time',
      'system.cpu.utilization',
      'system.disk.io',
      'system.disk.io_time',
      'system.disk.operations',
      'system.filesystem.usage',
      'system.filesystem.utilization',
      'system.memory.limit',
      'system.memory.usage',
      'system.memory.utilization',
      'system.network.dropped',
      'system.network.errors',
      'system.network.io',
      'system.process.count',
      'system.uptime',
    ]);
    // The process count and the top-N metrics came from one read of the shared table.
    expect(table.reads).toBe(1);
  });

  it('logs a collection error once however often it recurs', async () => {
    const warnings: string[] = [];
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const { uptime: _dropped, ...withoutUptime } = PROC;
    telemetry = startTelemetry({
      resource: resourceFromAttributes({}),
      processTable: new FakeProcessTable(),
      topN: 1,
      exporter,
      exportIntervalMillis: 60_000,
      files: new FixtureHostFiles(withoutUptime, {
        '/': { blockSize: 1, blocks: 1, freeBlocks: 1, availableBlocks: 1 },
      }),
      logger: { info: () => {}, warn: (m) => warnings.push(m) },
    });
    await telemetry.forceFlush();
    await telemetry.forceFlush();
    expect(warnings).toEqual(['collection error (logged once): ENOENT: /proc/uptime']);
  });
});
