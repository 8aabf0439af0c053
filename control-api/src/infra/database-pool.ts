import pg from 'pg';
import type { Logger } from './logger.js';

/** How long shutdown waits for pooled connections to say goodbye to the server. */
const END_TIMEOUT_MS = 5000;

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
  const pool = new pg.Pool({ connectionString, max: 10 });
  const open = new Set<pg.PoolClient>();
  let allClosed: (() => void) | undefined;
  pool.on('connect', (client) => open.add(client));
  pool.on('remove', (client) => {
    open.delete(client);
    if (open.size === 0) allClosed?.();
  });
  pool.on('error', (error) => logger.error('idle database connection failed', { err: error }));
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
