import pg from 'pg';
import { isDatabaseUnavailable } from './database-errors.js';
import {
  HostSelector,
  needsHostSelection,
  parseDatabaseUrl,
  type DatabaseEndpoint,
} from './database-hosts.js';
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

type ConnectCallback = (error: Error | null, client?: pg.Client) => void;

/**
 * A client whose host is picked when it connects (the selector's current choice), and which
 * refuses to join the pool when that host does not qualify (e.g. a standby for `read-write`).
 */
function selectingClient(selector: HostSelector) {
  return class SelectingClient extends pg.Client {
    endpoint: DatabaseEndpoint | undefined;

    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
      if (!callback) {
        return new Promise((resolve, reject) =>
          this.connect((error) => (error ? reject(error) : resolve(this))),
        );
      }
      selector.choose().then(
        (endpoint) => this.connectTo(endpoint, callback),
        (error: Error) => callback(error),
      );
    }

    private connectTo(endpoint: DatabaseEndpoint, callback: ConnectCallback): void {
      // The pool's connection timeout fired while the host was being chosen.
      if (this.connection.stream.destroyed) {
        callback(new Error('Connection terminated while choosing a database host'));
        return;
      }
      this.endpoint = endpoint;
      this.host = endpoint.host;
      this.port = endpoint.port;
      super.connect((error: Error | null) => {
        if (error) {
          selector.lost(endpoint);
          callback(error);
          return;
        }
        selector.verify(this, endpoint).then(
          (refusal) => {
            if (!refusal) return callback(null, this);
            void this.end().catch(() => undefined);
            callback(refusal);
          },
          (failure: Error) => {
            selector.lost(endpoint);
            void this.end().catch(() => undefined);
            callback(failure);
          },
        );
      });
    }
  };
}

/**
 * The pool's settings for a DATABASE_URL: as is for one host, through a HostSelector for
 * several hosts or `target_session_attrs=read-write` (see database-hosts.ts).
 */
function poolTarget(
  connectionString: string,
  logger: Logger,
): {
  config: pg.PoolConfig;
  selector?: HostSelector;
} {
  const target = parseDatabaseUrl(connectionString);
  if (!needsHostSelection(target)) return { config: { connectionString } };
  const selector = new HostSelector(target, {
    connectMs: DATABASE_TIMEOUTS.connectMs,
    queryMs: DATABASE_TIMEOUTS.queryMs,
    onChoose: (chosen, passedOver) =>
      logger.info('database host chosen', {
        host: `${chosen.host}:${chosen.port}`,
        passedOver: passedOver.map((p) => `${p.host}: ${p.error.message}`),
      }),
  });
  return {
    config: { connectionString: target.baseUrl, Client: selectingClient(selector) },
    selector,
  };
}

const endpointOf = (client: unknown) => (client as { endpoint?: DatabaseEndpoint }).endpoint;

export function createDatabasePool(connectionString: string, logger: Logger): DatabasePool {
  const { config, selector } = poolTarget(connectionString, logger);
  const pool = new pg.Pool({
    ...config,
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
  pool.on('error', (error, client) => {
    logger.warn('idle database connection failed', { err: error });
    const endpoint = endpointOf(client);
    if (endpoint) selector?.lost(endpoint);
  });
  // A connection lost mid-query, or a write refused by a host that turned read-only: the pool
  // discards that connection (released with an error) and the next one chooses its host again.
  pool.on('release', (error: unknown, client) => {
    const endpoint = endpointOf(client);
    if (!endpoint || !error) return;
    // isDatabaseUnavailable counts 25006 (read-only) among the unavailable states.
    if (isDatabaseUnavailable(error)) selector?.lost(endpoint);
  });
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
