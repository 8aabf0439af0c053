import { ValueType } from '@opentelemetry/api';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from './collector.js';
import { DROP_REASONS, type BufferStats } from './export-buffer.js';
import type { MetricCycle } from './metric-data.js';
import {
  ATTR_DROP_REASON,
  METRIC_AGENT_EXPORT_BUFFER_DROPPED,
  METRIC_AGENT_EXPORT_BUFFER_INTERVALS,
  METRIC_AGENT_EXPORT_BUFFER_LIMIT,
  METRIC_AGENT_EXPORT_BUFFER_SIZE,
  UNIT_BYTES,
  UNIT_INTERVALS,
} from './semconv.js';

const SIZE = {
  name: METRIC_AGENT_EXPORT_BUFFER_SIZE,
  description: 'Encoded bytes of the metrics batches the agent holds for an unreachable Collector',
  unit: UNIT_BYTES,
  valueType: ValueType.INT,
};
const LIMIT = {
  name: METRIC_AGENT_EXPORT_BUFFER_LIMIT,
  description: 'Bound on the export buffer (CYBERCORP_BUFFER_MAX_BYTES)',
  unit: UNIT_BYTES,
  valueType: ValueType.INT,
};
const INTERVALS = {
  name: METRIC_AGENT_EXPORT_BUFFER_INTERVALS,
  description: 'Export intervals held in the buffer, waiting to be sent',
  unit: UNIT_INTERVALS,
  valueType: ValueType.INT,
};
const DROPPED = {
  name: METRIC_AGENT_EXPORT_BUFFER_DROPPED,
  description: 'Export intervals that never reached the Collector, by reason',
  unit: UNIT_INTERVALS,
  valueType: ValueType.INT,
};

/**
 * The agent's own offline-buffer metrics. They travel in the same batches as the host metrics,
 * so during an outage they are buffered too and show the outage afterwards, point by point.
 */
export class ExportBufferCollector implements MetricsCollector {
  readonly name = 'export-buffer';

  constructor(private readonly stats: () => BufferStats) {}

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    const stats = this.stats();
    return [
      cycle.upDownCounter(SIZE, [{ attributes: {}, value: stats.bytes }]),
      cycle.upDownCounter(LIMIT, [{ attributes: {}, value: stats.limitBytes }]),
      cycle.upDownCounter(INTERVALS, [{ attributes: {}, value: stats.intervals }]),
      cycle.counter(
        DROPPED,
        DROP_REASONS.map((reason) => ({
          attributes: { [ATTR_DROP_REASON]: reason },
          value: stats.dropped[reason],
        })),
      ),
    ];
  }
}
