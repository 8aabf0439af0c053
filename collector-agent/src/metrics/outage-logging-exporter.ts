import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type {
  AggregationOption,
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { TelemetryLogger } from './telemetry-logger.js';

/**
 * Wraps the OTLP exporter so that a Collector outage is logged once when it starts and once
 * when exports succeed again, instead of once per cycle or not at all. It adds no buffering:
 * the periodic reader drops a batch whose export failed, and the exporter's own retries are
 * bounded in attempts, time and concurrent batches, so memory stays flat during an outage.
 */
export class OutageLoggingExporter implements PushMetricExporter {
  readonly selectAggregationTemporality?: (type: InstrumentType) => AggregationTemporality;
  readonly selectAggregation?: (type: InstrumentType) => AggregationOption;
  private failingSinceMillis: number | undefined;
  private failedExports = 0;

  constructor(
    private readonly inner: PushMetricExporter,
    private readonly logger: TelemetryLogger,
    private readonly target: string,
    private readonly now: () => number = Date.now,
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
      if (result.code === ExportResultCode.SUCCESS) this.succeeded();
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

  private failed(error: Error | undefined): void {
    this.failedExports += 1;
    if (this.failingSinceMillis !== undefined) return;
    this.failingSinceMillis = this.now();
    this.logger.warn(
      `metrics export to ${this.target} failing (${error?.message ?? 'unknown error'}); ` +
        'the agent keeps running and drops metrics until the Collector answers again',
    );
  }

  private succeeded(): void {
    if (this.failingSinceMillis === undefined) return;
    const seconds = Math.round((this.now() - this.failingSinceMillis) / 1000);
    this.logger.info(
      `metrics export to ${this.target} recovered after ${this.failedExports} failed ` +
        `export(s) over ${seconds} s`,
    );
    this.failingSinceMillis = undefined;
    this.failedExports = 0;
  }
}
