import { afterEach, describe, expect, it } from 'vitest';
import { ProcessMetricsCollector } from './process-metrics.js';
import { ProcessSnapshot } from './process-snapshot.js';
import {
  FakeProcessTable,
  FakeSummaryProcessTable,
  MetricsHarness,
  pointsOf,
  processSample,
} from './test-support/fixtures.js';

const START = Date.parse('2026-11-25T10:00:00.000Z');

describe('ProcessMetricsCollector', () => {
  let harness: MetricsHarness | undefined;
  afterEach(() => harness?.shutdown());

  it('exports CPU utilization, CPU time and memory of the top processes with pid, executable and owner', async () => {
    const table = new FakeProcessTable([
      processSample({ pid: 10, name: 'busy', user: 'alice', cpuSeconds: 90, memoryBytes: 1000 }),
      processSample({ pid: 11, name: 'idle', user: 'bob', cpuSeconds: 0, memoryBytes: 10 }),
      processSample({ pid: 12, name: 'fat', user: 'root', cpuSeconds: 1, memoryBytes: 9_000_000 }),
    ]);
    const collector = new ProcessMetricsCollector({
      snapshot: new ProcessSnapshot(table),
      topN: 1,
      cpuCount: 1,
      now: () => START + 100_000,
    });
    harness = new MetricsHarness([collector]);
    const collection = await harness.collect();
    const busy = { 'process.pid': 10, 'process.executable.name': 'busy', 'process.owner': 'alice' };
    const fat = { 'process.pid': 12, 'process.executable.name': 'fat', 'process.owner': 'root' };
    expect(pointsOf(collection, 'process.cpu.utilization')).toEqual([
      { attributes: busy, value: 0.9 },
      { attributes: fat, value: 0.01 },
    ]);
    expect(pointsOf(collection, 'process.cpu.time')).toEqual([
      { attributes: busy, value: 90 },
      { attributes: fat, value: 1 },
    ]);
    expect(pointsOf(collection, 'process.memory.usage')).toEqual([
      { attributes: busy, value: 1000 },
      { attributes: fat, value: 9_000_000 },
    ]);
    const units = ['process.cpu.utilization', 'process.cpu.time', 'process.memory.usage'].map(
      (name) => collection.metrics.get(name)?.descriptor.unit,
    );
    expect(units).toEqual(['1', 's', 'By']);
  });

  it('reads owners only for the chosen processes when the table lists summaries, and drops one that exited', async () => {
    const table = new FakeSummaryProcessTable([
      processSample({ pid: 10, name: 'busy', user: 'alice', cpuSeconds: 90, memoryBytes: 1000 }),
      processSample({ pid: 11, name: 'idle', user: 'bob', cpuSeconds: 0, memoryBytes: 10 }),
      processSample({ pid: 12, name: 'fat', user: 'root', cpuSeconds: 1, memoryBytes: 9_000_000 }),
      processSample({ pid: 13, name: 'gone', user: 'eve', cpuSeconds: 50, memoryBytes: 20 }),
    ]);
    const snapshot = new ProcessSnapshot(table);
    const collector = new ProcessMetricsCollector({
      snapshot,
      topN: 2,
      cpuCount: 1,
      now: () => START + 100_000,
    });
    harness = new MetricsHarness([collector]);
    // pid 13 is chosen from the summaries but exits before its owner is read.
    const list = table.listSummaries.bind(table);
    table.listSummaries = async () => {
      const summaries = await list();
      table.rows = table.rows.filter((row) => row.pid !== 13);
      return summaries;
    };
    const collection = await harness.collect();
    expect(pointsOf(collection, 'process.memory.usage')).toEqual([
      {
        attributes: {
          'process.pid': 10,
          'process.executable.name': 'busy',
          'process.owner': 'alice',
        },
        value: 1000,
      },
      {
        attributes: {
          'process.pid': 12,
          'process.executable.name': 'fat',
          'process.owner': 'root',
        },
        value: 9_000_000,
      },
    ]);
    expect(table.gets.sort()).toEqual([10, 12, 13]);
  });

  it('keeps series and remembered pids within the budget while 1000 processes churn their pids', async () => {
    let now = START + 60_000;
    let nextPid = 1000;
    const table = new FakeProcessTable();
    const topN = 10;
    const collector = new ProcessMetricsCollector({
      snapshot: new ProcessSnapshot(table, 0, () => now),
      topN,
      cpuCount: 4,
      maxRememberedPids: 1500,
      now: () => now,
    });
    harness = new MetricsHarness([collector]);
    const pidsSeen = new Set<number>();
    for (let cycle = 0; cycle < 30; cycle++) {
      // Every cycle 1000 processes with pids never seen before.
      table.rows = Array.from({ length: 1000 }, (_, i) =>
        processSample({
          pid: nextPid++,
          cpuSeconds: (i * 7919) % 1000,
          memoryBytes: ((i * 104729) % 1000) * 4096,
          startedAt: new Date(now - 50_000).toISOString(),
        }),
      );
      now += 10_000;
      const collection = await harness.collect();
      for (const name of ['process.cpu.utilization', 'process.cpu.time', 'process.memory.usage']) {
        const points = pointsOf(collection, name);
        expect(points.length).toBeGreaterThan(topN - 1);
        expect(points.length).toBeLessThanOrEqual(2 * topN);
        for (const point of points) pidsSeen.add(point.attributes['process.pid'] as number);
      }
      expect(collector.rememberedPidCount).toBeLessThanOrEqual(1000);
    }
    // 30 cycles of fresh pids were exported, yet each export held only this cycle's selection.
    expect(pidsSeen.size).toBeGreaterThan(20 * topN);
  });

  it('exports nothing when topN is 0, and follows a new topN', async () => {
    const table = new FakeProcessTable(
      [1, 2, 3, 4, 5].map((pid) => processSample({ pid, memoryBytes: pid })),
    );
    const collector = new ProcessMetricsCollector({
      snapshot: new ProcessSnapshot(table, 0),
      topN: 0,
      cpuCount: 1,
    });
    harness = new MetricsHarness([collector]);
    expect((await harness.collect()).metrics.size).toBe(0);
    expect(table.reads).toBe(0);
    collector.setTopN(2);
    expect(pointsOf(await harness.collect(), 'process.memory.usage')).toHaveLength(4);
  });

  it('rejects a negative or fractional topN with a stable code', () => {
    const snapshot = new ProcessSnapshot(new FakeProcessTable());
    expect(() => new ProcessMetricsCollector({ snapshot, topN: -1, cpuCount: 1 })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    expect(() => new ProcessMetricsCollector({ snapshot, topN: 1.5, cpuCount: 1 })).toThrow(
      /metrics.topN/,
    );
  });

  it('reports a failed table read as a collection error, not as an empty list', async () => {
    const table = {
      list: async () => Promise.reject(new Error('EACCES /proc')),
      get: async () => undefined,
    };
    const collector = new ProcessMetricsCollector({
      snapshot: new ProcessSnapshot(table),
      topN: 3,
      cpuCount: 1,
    });
    harness = new MetricsHarness([collector]);
    const collection = await harness.collect();
    expect(collection.errors.map(String)).toEqual(['Error: EACCES /proc']);
  });
});
