import type pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../infra/logger.js';
import { partitionName, type PartitionRepository } from '../repositories/history-partitions.js';
import type { RetentionRepository } from '../repositories/retention.js';
import { HistoryRetention, PARTITION_DAYS_AHEAD } from './history-retention.js';

const NOW = Date.parse('2026-03-10T12:00:00Z');

/**
 * A retention over fakes: a pool whose advisory lock is free or held by another instance, no
 * partitions yet, and a count of the DELETE rounds.
 */
function retentionWith({ lockFree }: { lockFree: boolean }) {
  const statements: string[] = [];
  const db = {
    connect: () =>
      Promise.resolve({
        query: (text: string) => {
          statements.push(text);
          return Promise.resolve({ rows: [{ locked: lockFree }] });
        },
        release: () => undefined,
      }),
  } as unknown as pg.Pool;
  const created: string[] = [];
  const partitions = {
    list: () => Promise.resolve([]),
    create: (table: string, day: Date) => {
      created.push(partitionName(table, day));
      return Promise.resolve();
    },
    drop: () => Promise.resolve(),
  } as unknown as PartitionRepository;
  let deleteRounds = 0;
  const retention = {
    deleteAuditedBefore: () => {
      deleteRounds++;
      return Promise.resolve({ audit_events: 0, events: 0, commands: 0 });
    },
  } as unknown as RetentionRepository;
  const history = new HistoryRetention({
    db,
    partitions,
    retention,
    tables: [{ table: 'system_metrics', retentionDays: 2 }],
    auditRetentionDays: 365,
    clock: { now: () => NOW },
    logger: silentLogger,
  });
  return { history, statements, created, deleteRounds: () => deleteRounds };
}

describe('HistoryRetention', () => {
  it('at start makes the partitions under the lock and leaves the DELETE to the hourly round', async () => {
    const { history, statements, created, deleteRounds } = retentionWith({ lockFree: true });
    const changes = await history.preparePartitions();
    // Yesterday and today (two days kept), then the days ahead.
    const days = Array.from({ length: 2 + PARTITION_DAYS_AHEAD }, (_, i) => 9 + i);
    expect(created).toEqual(
      days.map((day) => `system_metrics_p202603${String(day).padStart(2, '0')}`),
    );
    expect(changes).toEqual({ created, dropped: [] });
    expect(statements).toEqual([
      'BEGIN',
      'SELECT pg_try_advisory_xact_lock($1) AS locked',
      'COMMIT',
    ]);
    expect(deleteRounds()).toBe(0);

    await history.maintain();
    expect(deleteRounds()).toBe(1);
  });

  it('runs its first round a minute after start, then hourly', async () => {
    vi.useFakeTimers();
    try {
      const { history, deleteRounds } = retentionWith({ lockFree: true });
      history.start();
      await vi.advanceTimersByTimeAsync(59_000);
      expect(deleteRounds()).toBe(0);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(deleteRounds()).toBe(1);
      await vi.advanceTimersByTimeAsync(60 * 60 * 1000);
      expect(deleteRounds()).toBe(2);
      history.stop();
      await vi.advanceTimersByTimeAsync(2 * 60 * 60 * 1000);
      expect(deleteRounds()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does neither while another instance holds the lock', async () => {
    const { history, created, deleteRounds } = retentionWith({ lockFree: false });
    expect(await history.preparePartitions()).toEqual({ created: [], dropped: [] });
    expect(await history.maintain()).toEqual({ created: [], dropped: [], deleted: {} });
    expect(created).toEqual([]);
    expect(deleteRounds()).toBe(0);
  });
});
