import type pg from 'pg';

/**
 * Runs the work in a transaction on one pooled connection, committing when it resolves. On an
 * error the connection is discarded rather than rolled back: PostgreSQL rolls back as the
 * connection closes, and a ROLLBACK on a connection that just timed out would wait out another
 * timeout.
 */
export async function inTransaction<T>(
  db: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    client.release(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}
