import { afterEach, describe, expect, it } from 'vitest';
import { FixtureHostFiles, MetricsHarness, pointsOf } from '../test-support/fixtures.js';
import { CpuCollector } from './cpu.js';

const T0 = `cpu  300 0 100 600 0 0 0 0 0 0
cpu0 100 0 50 300 0 0 0 0 0 0
cpu1 200 0 50 300 0 0 0 0 0 0
`;
// One second later: cpu0 spent 50 ticks user and 50 idle, cpu1 100 ticks system.
const T1 = `cpu  350 0 200 650 0 0 0 0 0 0
cpu0 150 0 50 350 0 0 0 0 0 0
cpu1 200 0 150 300 0 0 0 0 0 0
`;

describe('CpuCollector', () => {
  let harness: MetricsHarness | undefined;
  afterEach(() => harness?.shutdown());

  it('reports system.cpu.time in seconds per CPU and mode', async () => {
    const files = new FixtureHostFiles({ stat: T0 });
    harness = new MetricsHarness([new CpuCollector(files)]);
    const collection = await harness.collect();
    expect(collection.metrics.get('system.cpu.time')?.descriptor.unit).toBe('s');
    const points = pointsOf(collection, 'system.cpu.time');
    expect(points).toHaveLength(2 * 7);
    expect(points).toContainEqual({
      attributes: { 'cpu.mode': 'user', 'cpu.logical_number': 1 },
      value: 2,
    });
    expect(points).toContainEqual({
      attributes: { 'cpu.mode': 'idle', 'cpu.logical_number': 0 },
      value: 3,
    });
  });

  it('reports system.cpu.utilization as the share of each mode since the previous collection', async () => {
    const files = new FixtureHostFiles({ stat: T0 });
    harness = new MetricsHarness([new CpuCollector(files)]);
    await harness.collect();
    files.proc.stat = T1;
    const collection = await harness.collect();
    expect(collection.metrics.get('system.cpu.utilization')?.descriptor.unit).toBe('1');
    const points = pointsOf(collection, 'system.cpu.utilization');
    const at = (cpu: number, mode: string) =>
      points.find(
        (p) => p.attributes['cpu.logical_number'] === cpu && p.attributes['cpu.mode'] === mode,
      )?.value;
    expect(at(0, 'user')).toBeCloseTo(0.5);
    expect(at(0, 'idle')).toBeCloseTo(0.5);
    expect(at(1, 'system')).toBeCloseTo(1);
    expect(at(1, 'user')).toBe(0);
  });

  it('turns an unreadable /proc/stat into a collection error', async () => {
    harness = new MetricsHarness([new CpuCollector(new FixtureHostFiles({}))]);
    const collection = await harness.collect();
    expect(collection.metrics.has('system.cpu.time')).toBe(false);
    expect(String(collection.errors[0])).toMatch(/ENOENT/);
  });
});
