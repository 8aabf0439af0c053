/**
 * OTLP metrics exports for tests of the history ingest: made by the real OTel SDK (a
 * MeterProvider read on demand), or written as OTLP/JSON where a test needs exact times.
 */
import type { Meter } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/** A reader that exports nothing by itself: `collect()` gives what an export would send. */
class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the SDK exports for `resource` after `record` used the meter once. */
export async function sdkExport(
  resource: Record<string, string | number>,
  record: (meter: Meter) => void,
): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes(resource),
    readers: [reader],
  });
  record(provider.getMeter('test'));
  const { resourceMetrics, errors } = await reader.collect();
  await provider.shutdown();
  if (errors.length > 0) throw new Error(`the SDK failed to collect: ${String(errors[0])}`);
  return resourceMetrics;
}

type JsonValue = string | number;

/** One number point of OTLP/JSON; an integer `value` goes as `asInt`, as the SDK sends ints. */
export interface JsonPoint {
  attributes?: Record<string, JsonValue>;
  timeMs: number;
  value: number;
  asInt?: boolean;
}

export interface JsonMetric {
  name: string;
  kind: 'gauge' | 'sum';
  points: JsonPoint[];
}

const jsonAttributes = (attributes: Record<string, JsonValue>) =>
  Object.entries(attributes).map(([key, value]) => ({
    key,
    value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
  }));

export const unixNanos = (ms: number) => String(BigInt(Math.round(ms)) * 1_000_000n);

/** An ExportMetricsServiceRequest in OTLP/JSON for one resource. */
export function otlpJson(resource: Record<string, JsonValue>, metrics: JsonMetric[]) {
  return {
    resourceMetrics: [
      {
        resource: { attributes: jsonAttributes(resource) },
        scopeMetrics: [
          {
            metrics: metrics.map(({ name, kind, points }) => ({
              name,
              [kind]: {
                dataPoints: points.map((point) => ({
                  attributes: jsonAttributes(point.attributes ?? {}),
                  timeUnixNano: unixNanos(point.timeMs),
                  ...(point.asInt ? { asInt: String(point.value) } : { asDouble: point.value }),
                })),
              },
            })),
          },
        ],
      },
    ],
  };
}
