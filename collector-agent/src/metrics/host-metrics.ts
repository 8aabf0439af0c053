import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import type { CollectionResult, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from './collector.js';
import { MetricCycle } from './metric-data.js';
import { METER_NAME } from './semconv.js';

/**
 * The agent's collectors — the host ones and the top-N processes — as one MetricProducer on the
 * reader, so an export holds one scope. Collectors hand over finished data
 * points instead of observing instruments on a Meter: the SDK's observable path hashes every
 * attribute set, keeps each series ever seen in cumulative storage (so an interface or mount
 * that went away was exported forever) and copies every point twice per cycle, which was a
 * tenth of the agent's CPU in bench/agent-overhead. Sums start when this producer was created,
 * as the SDK's would have started at its first collection.
 */
export class HostMetricsProducer implements MetricProducer {
  private readonly startTime;

  constructor(
    private readonly collectors: readonly MetricsCollector[],
    private readonly now: () => number = Date.now,
  ) {
    this.startTime = millisToHrTime(this.now());
  }

  async collect(): Promise<CollectionResult> {
    const cycle = new MetricCycle(this.startTime, this.now());
    const settled = await Promise.allSettled(this.collectors.map((c) => c.collect(cycle)));
    const metrics: MetricData[] = [];
    const errors: unknown[] = [];
    for (const outcome of settled) {
      if (outcome.status === 'fulfilled') metrics.push(...outcome.value);
      else errors.push(outcome.reason);
    }
    return {
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: [{ scope: { name: METER_NAME }, metrics }],
      },
      errors,
    };
  }
}
