import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createProcessTable } from '../control/process-table.js';
import { LinuxHostFiles } from './host-files.linux.js';
import { ProcessMetricsCollector } from './process-metrics.js';
import { ProcessSnapshot } from './process-snapshot.js';
import { createHostCollectors } from './registry.js';
import { MetricsHarness, pointsOf, type Collection } from './test-support/fixtures.js';

function realHarness(topN: number, reported: Error[]): MetricsHarness {
  if (process.platform !== 'linux')
    throw new Error(`these tests need Linux /proc, not ${process.platform}`);
  const snapshot = new ProcessSnapshot(createProcessTable());
  return new MetricsHarness([
    ...createHostCollectors({
      files: new LinuxHostFiles(),
      snapshot,
      reportError: (e) => reported.push(e),
    }),
    new ProcessMetricsCollector({ snapshot, topN, cpuCount: availableParallelism() }),
  ]);
}

const sum = (collection: Collection, name: string) =>
  pointsOf(collection, name).reduce((total, p) => total + p.value, 0);

describe('metrics from the real /proc', () => {
  let harness: MetricsHarness | undefined;
  let busy: ChildProcess | undefined;

  afterEach(async () => {
    // Only the process this test spawned, by its own handle.
    if (busy?.pid !== undefined && busy.exitCode === null) busy.kill('SIGKILL');
    busy = undefined;
    await harness?.shutdown();
  });

  it('collects plausible host values without errors', async () => {
    const reported: Error[] = [];
    harness = realHarness(10, reported);
    await harness.collect();
    await sleep(500);
    const collection = await harness.collect();
    expect(collection.errors).toEqual([]);
    expect(reported).toEqual([]);

    const memoryUsed = pointsOf(collection, 'system.memory.usage').find(
      (p) => p.attributes['system.memory.state'] === 'used',
    );
    expect(memoryUsed?.value).toBeGreaterThan(0);
    const [limit] = pointsOf(collection, 'system.memory.limit');
    expect(sum(collection, 'system.memory.usage')).toBeCloseTo(limit?.value ?? 0, -6);

    const mountpoints = pointsOf(collection, 'system.filesystem.usage').map(
      (p) => p.attributes['system.filesystem.mountpoint'],
    );
    expect(mountpoints).toContain('/');
    for (const p of pointsOf(collection, 'system.filesystem.utilization')) {
      expect(p.value).toBeGreaterThanOrEqual(0);
      expect(p.value).toBeLessThanOrEqual(1);
    }

    expect(pointsOf(collection, 'system.cpu.load_average.1m')[0]?.value).toBeGreaterThanOrEqual(0);
    expect(pointsOf(collection, 'system.uptime')[0]?.value).toBeGreaterThan(0);
    expect(pointsOf(collection, 'system.cpu.time')).toHaveLength(7 * availableParallelism());
    const utilization = sum(collection, 'system.cpu.utilization');
    // The mode shares of every CPU add up to 1.
    expect(utilization).toBeCloseTo(availableParallelism(), 1);
    const interfaces = pointsOf(collection, 'system.network.io').map(
      (p) => p.attributes['network.interface.name'],
    );
    expect(interfaces).toContain('lo');
    expect(sum(collection, 'system.process.count')).toBeGreaterThan(1);
    expect(pointsOf(collection, 'process.memory.usage').length).toBeGreaterThan(0);
    expect(pointsOf(collection, 'process.memory.usage').length).toBeLessThanOrEqual(20);
  });

  it('shows a busy process it spawned among the top processes by pid', async () => {
    busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    const pid = busy.pid;
    expect(pid).toBeTypeOf('number');
    // Ten, not one: other engineers' builds may be busier than our spinner on a shared machine.
    harness = realHarness(10, []);
    await sleep(1500);
    await harness.collect();
    await sleep(1000);
    const collection = await harness.collect();
    const point = pointsOf(collection, 'process.cpu.utilization').find(
      (p) => p.attributes['process.pid'] === pid,
    );
    expect(
      point,
      `pid ${pid} not among ${JSON.stringify(pointsOf(collection, 'process.cpu.utilization'))}`,
    ).toBeDefined();
    expect(point?.attributes['process.executable.name']).toBe('node');
    // Spinning on one CPU for the last second: up to 1/CPUs of the host, well above idle.
    expect(point?.value).toBeGreaterThan(0.1 / availableParallelism());
    const time = pointsOf(collection, 'process.cpu.time').find(
      (p) => p.attributes['process.pid'] === pid,
    );
    expect(time?.value).toBeGreaterThan(0.2);
  });
});
