import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricCycle } from './metric-data.js';

/**
 * One group of host metrics, read from its source once per export cycle. A collector that
 * cannot read its source throws, so the cycle reports a collection error instead of a silent
 * gap; the other collectors' metrics are still exported.
 */
export interface MetricsCollector {
  readonly name: string;
  collect(cycle: MetricCycle): Promise<MetricData[]>;
}
