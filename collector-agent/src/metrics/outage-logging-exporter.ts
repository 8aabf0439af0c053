import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { LogThrottle } from '@cybercorp/logging';
import type {
  AggregationOption,
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { BufferEvents, BufferStats, DropReason } from './export-buffer.js';
import { isPermanentExportError } from './export-errors.js';
import type { TelemetryLogger } from './telemetry-logger.js';

const DROP_HEADLINES: Record<DropReason, string> = {
  buffer_full: 'metrics export buffer full (CYBERCORP_BUFFER_MAX_BYTES)',
  rejected: 'the Collector refused a metrics batch for good; dropped, not retried',
  spool_error: 'metrics export spool',
};
const DROP_WORDS: Record<DropReason, string> = {
  buffer_full: 'dropped',
  rejected: 'refused',
  spool_error: 'lost',
};

/** At most one line per drop reason this often; the line says how many it stands for. */
export const DROP_LOG_INTERVAL_MS = 60_000;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/**
 * Wraps the OTLP exporter so that a Collector outage is logged once when it starts and once
 * when exports succeed again, instead of once per cycle or not at all; it also writes the
 * offline buffer's lines (intervals dropped, a spool found at start), throttled per cause. A
 * batch the Collector refused for good is no outage: the Collector answered.
 */
export class OutageLoggingExporter implements PushMetricExporter, BufferEvents {
  readonly selectAggregationTemporality?: (type: InstrumentType) => AggregationTemporality;
  readonly selectAggregation?: (type: InstrumentType) => AggregationOption;
  private failingSinceMillis: number | undefined;
  private failedExports = 0;
  private readonly dropLog = new LogThrottle(DROP_LOG_INTERVAL_MS);

  constructor(
    private readonly inner: PushMetricExporter,
    private readonly logger: TelemetryLogger,
    private readonly target: string,
    private readonly now: () => number = Date.now,
    /** The offline buffer's state, for the outage lines (not called while it is being built). */
    private readonly bufferStats?: () => BufferStats,
  ) {
    // The reader asks the exporter for temporality and aggregation; pass the inner choices on.
    this.selectAggregationTemporality = inner.selectAggregationTemporality?.bind(inner);
    this.selectAggregation = inner.selectAggregation?.bind(inner);
  }

  /** Whether the last export failed. */
  get failing(): boolean {
    return this.failingSinceMillis !== undefined;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.inner.export(metrics, (result) => {
      // The OTLP exporter pins @opentelemetry/core 2.12.0 and sdk-metrics 2.12.1 brings its own
      // copy, so the two ExportResultCode enums are distinct types with the same numbers.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison
      if (result.code === ExportResultCode.SUCCESS || isPermanentExportError(result.error))
        this.reached();
      else this.failed(result.error);
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  dropped(reason: DropReason, detail: string, stats: BufferStats): void {
    const take = this.dropLog.take(reason, this.now());
    if (!take) return;
    const more = take.suppressed > 0 ? ` (${take.suppressed} more since the last such line)` : '';
    this.logger.warn(
      `${DROP_HEADLINES[reason]}: ${detail}${more}; ${stats.dropped[reason]} interval(s) ` +
        `${DROP_WORDS[reason]} so far; holding ${stats.intervals} interval(s), ` +
        `${formatBytes(stats.bytes)} of ${formatBytes(stats.limitBytes)}`,
    );
  }

  restored(stats: BufferStats): void {
    this.logger.info(
      `found ${stats.intervals} buffered metrics interval(s) (${formatBytes(stats.bytes)}) from an earlier ` +
        'run in the spool; sending them oldest first once the Collector answers',
    );
  }

  closing(stats: BufferStats, kept: boolean): void {
    const held = `${stats.intervals} buffered metrics interval(s) (${formatBytes(stats.bytes)})`;
    if (kept) this.logger.info(`stopping with ${held} kept in the spool for the next start`);
    else
      this.logger.warn(
        `stopping with ${held} in memory, lost now ` +
          '(CYBERCORP_BUFFER_SPOOL=file keeps them across restarts)',
      );
  }

  private failed(error: Error | undefined): void {
    this.failedExports += 1;
    if (this.failingSinceMillis !== undefined) return;
    this.failingSinceMillis = this.now();
    const limit = this.bufferStats?.().limitBytes ?? 0;
    this.logger.warn(
      `metrics export to ${this.target} failing (${error?.message ?? 'unknown error'}); ` +
        (limit > 0
          ? `the agent keeps running and buffers up to ${formatBytes(limit)} of metrics to ` +
            'send, oldest first, when the Collector answers again'
          : 'the agent keeps running and drops metrics until the Collector answers again'),
    );
  }

  private reached(): void {
    if (this.failingSinceMillis === undefined) return;
    const seconds = Math.round((this.now() - this.failingSinceMillis) / 1000);
    const stats = this.bufferStats?.();
    const backlog = stats
      ? `; ${stats.intervals} buffered interval(s) to send, oldest first; ` +
        `${stats.dropped.buffer_full} interval(s) dropped as the buffer filled`
      : '';
    this.logger.info(
      `metrics export to ${this.target} recovered after ${this.failedExports} failed ` +
        `export(s) over ${seconds} s${backlog}`,
    );
    this.failingSinceMillis = undefined;
    this.failedExports = 0;
  }
}
