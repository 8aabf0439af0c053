import { afterEach, describe, expect, it } from 'vitest';
import { FixtureHostFiles, MetricsHarness, pointsOf } from '../test-support/fixtures.js';
import { MemoryCollector } from './memory.js';

const MEMINFO = `MemTotal:        1000 kB
MemFree:          400 kB
MemAvailable:     700 kB
Buffers:          100 kB
Cached:           150 kB
SReclaimable:      50 kB
`;

describe('MemoryCollector', () => {
  let harness: MetricsHarness | undefined;
  afterEach(() => harness?.shutdown());

  it('reports usage in bytes and utilization per state, adding up to the total', async () => {
    harness = new MetricsHarness([new MemoryCollector(new FixtureHostFiles({ meminfo: MEMINFO }))]);
    const collection = await harness.collect();
    expect(collection.metrics.get('system.memory.usage')?.descriptor.unit).toBe('By');
    expect(collection.metrics.get('system.memory.utilization')?.descriptor.unit).toBe('1');
    expect(pointsOf(collection, 'system.memory.usage')).toEqual([
      { attributes: { 'system.memory.state': 'used' }, value: 300 * 1024 },
      { attributes: { 'system.memory.state': 'free' }, value: 400 * 1024 },
      { attributes: { 'system.memory.state': 'buffers' }, value: 100 * 1024 },
      { attributes: { 'system.memory.state': 'cached' }, value: 200 * 1024 },
    ]);
    const utilization = pointsOf(collection, 'system.memory.utilization');
    expect(
      utilization.find((p) => p.attributes['system.memory.state'] === 'used')?.value,
    ).toBeCloseTo(0.3);
    expect(pointsOf(collection, 'system.memory.limit')).toEqual([
      { attributes: {}, value: 1000 * 1024 },
    ]);
  });
});
