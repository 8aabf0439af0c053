/*
 * Test support for the metrics collectors: an in-memory reader and literal-fixture host files.
 * Used by the *.test.ts files of metrics/ (literalBatch also by e2e/agent-offline-buffer.test.ts);
 * test-support/ folders are left out of the build.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type MetricData,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ProcessSample, ProcessSummary, ProcessTable } from '../../control/processes.js';
import type { MetricsCollector } from '../collector.js';
import type { FilesystemStats, HostFiles } from '../host-files.js';
import { HostMetricsProducer } from '../host-metrics.js';

class InMemoryReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface Collection {
  metrics: Map<string, MetricData>;
  errors: unknown[];
}

/** A MeterProvider reading the given collectors, as the agent wires them. */
export class MetricsHarness {
  private readonly reader: InMemoryReader;
  private readonly provider: MeterProvider;

  constructor(collectors: readonly MetricsCollector[]) {
    this.reader = new InMemoryReader({ metricProducers: [new HostMetricsProducer(collectors)] });
    this.provider = new MeterProvider({ readers: [this.reader] });
  }

  async collect(): Promise<Collection> {
    const { resourceMetrics, errors } = await this.reader.collect();
    const metrics = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) metrics.set(metric.descriptor.name, metric);
    }
    return { metrics, errors };
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** The data points of one metric as plain `{attributes, value}` rows. */
export function pointsOf(collection: Collection, name: string) {
  const metric = collection.metrics.get(name);
  if (!metric) throw new Error(`metric ${name} not collected`);
  return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value as number }));
}

/** Host files served from literal text; change `proc` between collections to move time on. */
export class FixtureHostFiles implements HostFiles {
  constructor(
    readonly proc: Record<string, string>,
    readonly filesystems: Record<string, FilesystemStats | Error> = {},
  ) {}

  async readProc(path: string): Promise<string> {
    const text = this.proc[path];
    if (text === undefined)
      throw Object.assign(new Error(`ENOENT: /proc/${path}`), { code: 'ENOENT' });
    return text;
  }

  async statfs(mountpoint: string): Promise<FilesystemStats> {
    const stats = this.filesystems[mountpoint];
    if (stats === undefined) throw new Error(`ENOENT: statfs ${mountpoint}`);
    if (stats instanceof Error) throw stats;
    return stats;
  }
}

/** A process-table row with plausible defaults, for literal fake tables. */
export function processSample(fields: Partial<ProcessSample> & { pid: number }): ProcessSample {
  return {
    ppid: 1,
    name: `proc${fields.pid}`,
    user: 'alice',
    state: 'S',
    cpuPercent: 0,
    memoryBytes: 1024 * 1024,
    command: `/usr/bin/proc${fields.pid}`,
    startedAt: '2026-11-25T10:00:00.000Z',
    cpuSeconds: 1,
    kernelThread: false,
    uid: 1000,
    ...fields,
  };
}

/** A process table whose rows the test sets; counts reads to check one read per cycle. */
export class FakeProcessTable implements ProcessTable {
  reads = 0;

  constructor(public rows: ProcessSample[] = []) {}

  async list(): Promise<ProcessSample[]> {
    this.reads += 1;
    return this.rows;
  }

  async get(pid: number): Promise<ProcessSample | undefined> {
    return this.rows.find((row) => row.pid === pid);
  }
}

/** A fake table that, like the Linux one, lists summaries cheaply and owners only on `get`. */
export class FakeSummaryProcessTable extends FakeProcessTable {
  readonly gets: number[] = [];

  async listSummaries(): Promise<ProcessSummary[]> {
    this.reads += 1;
    return this.rows.map(({ command: _command, user: _user, uid: _uid, ...summary }) => summary);
  }

  override async get(pid: number): Promise<ProcessSample | undefined> {
    this.gets.push(pid);
    return super.get(pid);
  }
}

/**
 * One literal export batch: `system.uptime` = `value` at `second` (on an otherwise empty host),
 * so a test can tell batches apart by their value and check their order. `host` (host.name,
 * default web-1) and `startSecond` (the point's start time, default 0) for a batch of another
 * host or period.
 */
export function literalBatch(
  second: number,
  value = second,
  { host = 'web-1', startSecond = 0 }: { host?: string; startSecond?: number } = {},
): ResourceMetrics {
  return {
    resource: resourceFromAttributes({ 'host.name': host, 'service.name': 'cybercorp-agent' }),
    scopeMetrics: [
      {
        scope: { name: '@cybercorp/collector-agent' },
        metrics: [
          {
            descriptor: { name: 'system.uptime', description: '', unit: 's', valueType: 1 },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.GAUGE,
            dataPoints: [
              { attributes: {}, startTime: [startSecond, 0], endTime: [second, 0], value },
            ],
          },
        ],
      },
    ],
  };
}

/** The `system.uptime` value of a literalBatch. */
export function valueOf(batch: ResourceMetrics): number | undefined {
  return batch.scopeMetrics[0]?.metrics[0]?.dataPoints[0]?.value as number | undefined;
}

/**
 * An exporter answering each export with the next scripted result, keeping the batches that
 * went out; empty exports (no metrics, the buffer's "does the Collector answer?") are counted
 * apart, in `probes`, whatever their result.
 */
export class ScriptedExporter implements PushMetricExporter {
  readonly sent: ResourceMetrics[] = [];
  probes = 0;

  constructor(public results: ExportResult[]) {}

  export(metrics: ResourceMetrics, callback: (result: ExportResult) => void): void {
    const next = this.results.shift();
    if (!next) throw new Error('no scripted result left');
    if (metrics.scopeMetrics.length === 0) this.probes += 1;
    else if (next.code === ExportResultCode.SUCCESS) this.sent.push(metrics);
    callback(next);
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export const EXPORT_OK: ExportResult = { code: ExportResultCode.SUCCESS };
/** What the gRPC exporter reports while no Collector listens. */
export const EXPORT_UNAVAILABLE: ExportResult = {
  code: ExportResultCode.FAILED,
  error: Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
    code: 14,
    details: 'No connection established',
    metadata: {},
  }),
};
/** What the Collector answers for a request it can never accept. */
export const EXPORT_INVALID: ExportResult = {
  code: ExportResultCode.FAILED,
  error: Object.assign(new Error('3 INVALID_ARGUMENT: malformed'), {
    code: 3,
    details: 'malformed',
    metadata: {},
  }),
};
