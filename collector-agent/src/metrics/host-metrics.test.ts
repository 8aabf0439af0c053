import { describe, expect, it } from 'vitest';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from './collector.js';
import { HostMetricsProducer } from './host-metrics.js';
import type { MetricCycle } from './metric-data.js';

const UPTIME = { name: 'system.uptime', description: 'Seconds since boot', unit: 's' };
const BYTES = { name: 'system.network.io', description: 'Bytes', unit: 'By' };

function collector(name: string, collect: (cycle: MetricCycle) => MetricData[]): MetricsCollector {
  return { name, collect: async (cycle) => collect(cycle) };
}

describe('HostMetricsProducer', () => {
  it('exports every collector that read its source and reports the one that failed', async () => {
    const producer = new HostMetricsProducer([
      collector('uptime', (cycle) => [cycle.gauge(UPTIME, [{ attributes: {}, value: 42 }])]),
      collector('broken', () => {
        throw new Error('ENOENT: /proc/net/dev');
      }),
    ]);
    const { resourceMetrics, errors } = await producer.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    expect(metrics.map((m) => m.descriptor.name)).toEqual(['system.uptime']);
    expect(metrics[0]?.dataPoints[0]?.value).toBe(42);
    expect(errors.map(String)).toEqual(['Error: ENOENT: /proc/net/dev']);
  });

  it('starts cumulative sums when the producer was created and ends them at the collection', async () => {
    let clock = 1_700_000_000_250;
    const producer = new HostMetricsProducer(
      [
        collector('network', (cycle) => [
          cycle.counter(BYTES, [{ attributes: { 'network.io.direction': 'receive' }, value: 9 }]),
          cycle.gauge(UPTIME, [{ attributes: {}, value: 1 }]),
        ]),
      ],
      () => clock,
    );
    clock += 10_000;
    const [sum, gauge] = (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics;
    expect(sum).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: true });
    expect(sum?.dataPoints[0]).toMatchObject({
      startTime: [1_700_000_000, 250_000_000],
      endTime: [1_700_000_010, 250_000_000],
      value: 9,
    });
    expect(gauge?.dataPoints[0]?.endTime).toEqual([1_700_000_010, 250_000_000]);
  });
});
