import type pg from 'pg';

const DAY_MS = 86_400_000;

/** `system_metrics_p20261201`: the partition of one UTC day of a daily-partitioned table. */
export function partitionName(table: string, day: Date): string {
  return `${table}_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The UTC day a partition name stands for, or undefined for a name not made by partitionName. */
export function partitionDay(table: string, name: string): Date | undefined {
  const match = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  if (!match) return undefined;
  const day = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`);
  return Number.isNaN(day.getTime()) ? undefined : day;
}

export function startOfUtcDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

export function addDays(day: Date, days: number): Date {
  return new Date(day.getTime() + days * DAY_MS);
}

/**
 * DDL of daily partitions. Table names come from code, never from a request; they are still
 * quoted as identifiers.
 */
export class PartitionRepository {
  constructor(private readonly db: pg.Pool) {}

  async list(table: string): Promise<string[]> {
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relname = $1 ORDER BY c.relname`,
      [table],
    );
    return rows.map((row) => row.name);
  }

  async create(table: string, day: Date): Promise<void> {
    const from = day.toISOString();
    const to = addDays(day, 1).toISOString();
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${identifier(partitionName(table, day))}
       PARTITION OF ${identifier(table)} FOR VALUES FROM ('${from}') TO ('${to}')`,
    );
  }

  async drop(partition: string): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${identifier(partition)}`);
  }
}

function identifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return `"${name}"`;
}
