import { afterEach, describe, expect, it } from 'vitest';
import { FixtureHostFiles, MetricsHarness, pointsOf } from '../test-support/fixtures.js';
import { LoadCollector } from './load.js';
import { UptimeCollector } from './uptime.js';

describe('LoadCollector and UptimeCollector', () => {
  let harness: MetricsHarness | undefined;
  afterEach(() => harness?.shutdown());

  it('reports the three load averages with a unit that adds no Prometheus suffix, and uptime in seconds', async () => {
    const files = new FixtureHostFiles({
      loadavg: '1.89 1.33 0.57 1/97 17814\n',
      uptime: '573.40 799.35\n',
    });
    harness = new MetricsHarness([new LoadCollector(files), new UptimeCollector(files)]);
    const collection = await harness.collect();
    expect(pointsOf(collection, 'system.cpu.load_average.1m')).toEqual([
      { attributes: {}, value: 1.89 },
    ]);
    expect(pointsOf(collection, 'system.cpu.load_average.5m')).toEqual([
      { attributes: {}, value: 1.33 },
    ]);
    expect(pointsOf(collection, 'system.cpu.load_average.15m')).toEqual([
      { attributes: {}, value: 0.57 },
    ]);
    expect(collection.metrics.get('system.cpu.load_average.1m')?.descriptor.unit).toBe('{thread}');
    expect(pointsOf(collection, 'system.uptime')).toEqual([{ attributes: {}, value: 573.4 }]);
    expect(collection.metrics.get('system.uptime')?.descriptor.unit).toBe('s');
  });
});
