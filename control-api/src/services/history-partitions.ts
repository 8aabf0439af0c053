import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import {
  addDays,
  partitionDay,
  partitionName,
  startOfUtcDay,
  type PartitionRepository,
} from '../repositories/history-partitions.js';

/** Days of partitions kept ready after today, so a clock step or a slow job never stops writes. */
export const PARTITION_DAYS_AHEAD = 3;
const MAINTENANCE_INTERVAL_MS = 60 * 60 * 1000;
const MAINTENANCE_LOCK_KEY = 7_319_002;

export interface PartitionedTable {
  table: string;
  retentionDays: number;
}

/** The window of days a table accepts rows for: [oldest, newest + 1 day). */
export interface PartitionWindow {
  oldest: Date;
  end: Date;
}

/**
 * Keeps daily partitions of the history tables: every day of the retention window and
 * PARTITION_DAYS_AHEAD days ahead exist; days older than the retention are dropped (a DROP of
 * a whole partition, not a DELETE). Runs at start and hourly; with several instances, one does
 * it at a time (an advisory lock) and the others skip that round.
 */
export class HistoryPartitions {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly partitions: PartitionRepository,
    private readonly tables: readonly PartitionedTable[],
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** The days `table` takes rows for now; rows outside are refused before they reach the DB. */
  window(table: string): PartitionWindow {
    const today = startOfUtcDay(new Date(this.clock.now()));
    const retention = this.tables.find((t) => t.table === table)?.retentionDays ?? 0;
    return {
      oldest: addDays(today, -(retention - 1)),
      end: addDays(today, PARTITION_DAYS_AHEAD + 1),
    };
  }

  async maintain(): Promise<{ created: string[]; dropped: string[] }> {
    const created: string[] = [];
    const dropped: string[] = [];
    await this.partitions.exclusively(MAINTENANCE_LOCK_KEY, async () => {
      for (const { table } of this.tables) {
        const { oldest, end } = this.window(table);
        const existing = new Set(await this.partitions.list(table));
        for (const name of existing) {
          const day = partitionDay(table, name);
          if (day !== undefined && day < oldest) {
            await this.partitions.drop(name);
            dropped.push(name);
          }
        }
        for (let day = oldest; day < end; day = addDays(day, 1)) {
          const name = partitionName(table, day);
          if (existing.has(name)) continue;
          await this.partitions.create(table, day);
          created.push(name);
        }
      }
    });
    if (dropped.length > 0) this.logger.info('history partitions dropped', { dropped });
    return { created, dropped };
  }

  start(): void {
    this.timer = setInterval(() => {
      this.maintain().catch((error: unknown) =>
        this.logger.warn('history partition maintenance failed', { err: error }),
      );
    }, MAINTENANCE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
