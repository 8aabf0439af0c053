import type pg from 'pg';

/** Rows deleted per statement, so a first run over a year of backlog never holds long locks. */
const DELETE_BATCH = 10_000;

/** The tables kept for AUDIT_RETENTION_DAYS, and the column that dates their rows. */
const AUDITED_TABLES = [
  { table: 'audit_events', key: 'id', dated: 'at' },
  { table: 'events', key: 'id', dated: 'at' },
  // A pending command is never deleted: its outcome is still to be recorded.
  { table: 'commands', key: 'id', dated: 'created_at', extra: "AND status <> 'pending'" },
] as const;

export class RetentionRepository {
  constructor(private readonly db: pg.Pool) {}

  /** Deletes, batch by batch, the rows of the audited tables dated before `cutoff`. */
  async deleteAuditedBefore(cutoff: Date): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const spec of AUDITED_TABLES) {
      const extra = 'extra' in spec ? spec.extra : '';
      let total = 0;
      for (;;) {
        const { rowCount } = await this.db.query(
          `DELETE FROM ${spec.table} WHERE ${spec.key} IN (
             SELECT ${spec.key} FROM ${spec.table} WHERE ${spec.dated} < $1 ${extra} LIMIT ${DELETE_BATCH})`,
          [cutoff],
        );
        total += rowCount ?? 0;
        if ((rowCount ?? 0) < DELETE_BATCH) break;
      }
      deleted[spec.table] = total;
    }
    return deleted;
  }
}
