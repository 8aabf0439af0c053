import type pg from 'pg';

/**
 * Runs `work` while this session holds a transaction-level advisory lock, or not at all when
 * another instance holds it (it is doing the same work right now). Returns whether it ran.
 */
export async function whileLocked(
  db: pg.Pool,
  lockKey: number,
  work: () => Promise<void>,
): Promise<boolean> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1) AS locked',
      [lockKey],
    );
    const locked = rows[0]?.locked === true;
    if (locked) await work();
    await client.query('COMMIT');
    return locked;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
