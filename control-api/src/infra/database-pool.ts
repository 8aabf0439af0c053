import pg from 'pg';
import type { Logger } from './logger.js';

/** How long shutdown waits for pooled connections to say goodbye to the server. */
const END_TIMEOUT_MS = 5000;

/**
 * Bounds that turn a database that is down, frozen or overloaded into a prompt error (answered
 * 503 `database_unavailable`) instead of a hung request. A route makes at most one of these
 * waits before it fails, so each stays well under the 3 s a caller may wait for an answer.
 */
export const DATABASE_TIMEOUTS = {
  /** Opening a connection, or waiting for a free one in the pool. */
  connectMs: 1500,
  /** Server side: PostgreSQL cancels a statement running longer (the connection stays usable). */
  statementMs: 1500,
  /**
   * Client side, for a server that accepts bytes but never answers (SIGSTOP, a dead host
   * behind a live TCP stack): the query fails and its connection is discarded.
   */
  queryMs: 2000,
} as const;

export interface DatabasePool {
  pool: pg.Pool;
  /**
   * Ends the pool and waits until every connection has actually closed. `pg.Pool.end()`
   * resolves as soon as it has asked its clients to end, so stopping the server right after
   * it would terminate connections that are still saying goodbye.
   */
  end(): Promise<void>;
}

export function createDatabasePool(connectionString: string, logger: Logger): DatabasePool {
  const pool = new pg.Pool({
    connectionString,
    max: 10,
    connectionTimeoutMillis: DATABASE_TIMEOUTS.connectMs,
    statement_timeout: DATABASE_TIMEOUTS.statementMs,
    query_timeout: DATABASE_TIMEOUTS.queryMs,
    // A dead peer is noticed by the kernel even on an idle connection.
    keepAlive: true,
  });
  const open = new Set<pg.PoolClient>();
  let allClosed: (() => void) | undefined;
  pool.on('connect', (client) => open.add(client));
  pool.on('remove', (client) => {
    open.delete(client);
    if (open.size === 0) allClosed?.();
  });
  // An idle connection broken by a database restart: the pool drops it and opens a new one
  // on demand, so there is nothing to repair here.
  pool.on('error', (error) => logger.warn('idle database connection failed', { err: error }));
  return {
    pool,
    end: async () => {
      const closed = new Promise<void>((resolve) => {
        allClosed = resolve;
      });
      await pool.end();
      if (open.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn('database connections still open at shutdown', { open: open.size });
          resolve();
        }, END_TIMEOUT_MS);
      });
      await Promise.race([closed, timeout]);
      clearTimeout(timer);
    },
  };
}
