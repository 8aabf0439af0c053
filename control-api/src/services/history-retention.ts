import type pg from 'pg';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { whileLocked } from '../repositories/advisory-lock.js';
import {
  addDays,
  partitionDay,
  partitionName,
  startOfUtcDay,
  type PartitionRepository,
} from '../repositories/history-partitions.js';
import type { RetentionRepository } from '../repositories/retention.js';

/** Days of partitions kept ready after today, so a clock step or a slow job never stops writes. */
export const PARTITION_DAYS_AHEAD = 3;
const MAINTENANCE_INTERVAL_MS = 60 * 60 * 1000;
const FIRST_ROUND_DELAY_MS = 60 * 1000;
const MAINTENANCE_LOCK_KEY = 7_319_002;

export interface PartitionedTable {
  table: string;
  retentionDays: number;
}

/** The window of days a table accepts rows for: [oldest, end). */
export interface PartitionWindow {
  oldest: Date;
  end: Date;
}

/** The partitions one round created and dropped, by name. */
export interface PartitionChanges {
  created: string[];
  dropped: string[];
}

export interface HistoryRetentionDeps {
  db: pg.Pool;
  partitions: PartitionRepository;
  retention: RetentionRepository;
  /** The daily-partitioned tables and how long each keeps its rows. */
  tables: readonly PartitionedTable[];
  /** AUDIT_RETENTION_DAYS: commands, audit_events and events. */
  auditRetentionDays: number;
  clock: Clock;
  logger: Logger;
}

/**
 * What the history keeps, and for how long. Daily partitions of the history tables: every day
 * of the retention window and PARTITION_DAYS_AHEAD days ahead exist; days older than the
 * retention are dropped (a DROP of a whole partition, not a DELETE). Commands, audit and events
 * older than AUDIT_RETENTION_DAYS are deleted in batches. The partitions are kept at start;
 * both in the rounds that follow (a minute after start, then hourly): start-up waits for
 * today's partition, not for a backlog of deletes. With several instances one does either at a
 * time (an advisory lock) and the others skip that round.
 */
export class HistoryRetention {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: HistoryRetentionDeps) {}

  /** The days `table` takes rows for now; rows outside are refused before they reach the DB. */
  window(table: string): PartitionWindow {
    const today = startOfUtcDay(new Date(this.deps.clock.now()));
    const retention = this.deps.tables.find((t) => t.table === table)?.retentionDays ?? 0;
    return {
      oldest: addDays(today, -(retention - 1)),
      end: addDays(today, PARTITION_DAYS_AHEAD + 1),
    };
  }

  /** At start, before any request: the partitions only (an export must find today's). */
  async preparePartitions(): Promise<PartitionChanges> {
    const { deleted: _none, ...partitions } = await this.round({ deleteExpired: false });
    return partitions;
  }

  /** The hourly round: the partitions, then the batched DELETE of expired audited rows. */
  maintain(): Promise<PartitionChanges & { deleted: Record<string, number> }> {
    return this.round({ deleteExpired: true });
  }

  /** One round under the lock (skipped while another instance does it), then its log line. */
  private async round({
    deleteExpired,
  }: {
    deleteExpired: boolean;
  }): Promise<PartitionChanges & { deleted: Record<string, number> }> {
    const { deps } = this;
    let partitions: PartitionChanges = { created: [], dropped: [] };
    let deleted: Record<string, number> = {};
    await whileLocked(deps.db, MAINTENANCE_LOCK_KEY, async () => {
      partitions = await this.keepPartitions();
      if (!deleteExpired) return;
      const today = startOfUtcDay(new Date(deps.clock.now()));
      deleted = await deps.retention.deleteAuditedBefore(addDays(today, -deps.auditRetentionDays));
    });
    this.logRemoved(partitions.dropped, deleted);
    return { ...partitions, deleted };
  }

  /** Drops the partitions older than each table's window and creates the missing ones in it. */
  private async keepPartitions(): Promise<PartitionChanges> {
    const { deps } = this;
    const created: string[] = [];
    const dropped: string[] = [];
    for (const { table } of deps.tables) {
      const { oldest, end } = this.window(table);
      const existing = new Set(await deps.partitions.list(table));
      for (const name of existing) {
        const day = partitionDay(table, name);
        if (day !== undefined && day < oldest) {
          await deps.partitions.drop(name);
          dropped.push(name);
        }
      }
      for (let day = oldest; day < end; day = addDays(day, 1)) {
        const name = partitionName(table, day);
        if (existing.has(name)) continue;
        await deps.partitions.create(table, day);
        created.push(name);
      }
    }
    return { created, dropped };
  }

  private logRemoved(dropped: string[], deleted: Record<string, number>): void {
    if (dropped.length > 0 || Object.values(deleted).some((count) => count > 0)) {
      this.deps.logger.info('expired history removed', { dropped, deleted });
    }
  }

  /**
   * The first round a minute after start, off the start-up path, then hourly: an instance
   * restarted more often than hourly (rolling deploys) still deletes what expired.
   */
  start(): void {
    const round = () => {
      this.maintain().catch((error: unknown) =>
        this.deps.logger.warn('history retention failed', { err: error }),
      );
    };
    this.timer = setTimeout(() => {
      round();
      this.timer = setInterval(round, MAINTENANCE_INTERVAL_MS);
      this.timer.unref();
    }, FIRST_ROUND_DELAY_MS);
    this.timer.unref();
  }

  stop(): void {
    // One call clears either kind of timer in Node; the handle is the timeout, then the interval.
    clearTimeout(this.timer);
  }
}
