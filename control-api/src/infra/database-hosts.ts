import pg from 'pg';

/**
 * Several database hosts in one DATABASE_URL, as libpq takes them (node-postgres does not):
 * `postgres://user:pass@h1:5432,h2:5433/db?target_session_attrs=read-write`. With
 * `read-write` (or `primary`) a connection goes to the first host, in the order given, that
 * accepts writes; with `any` (libpq's default) to the first one that answers.
 */
export interface DatabaseEndpoint {
  host: string;
  port: number;
}

export interface DatabaseTarget {
  endpoints: DatabaseEndpoint[];
  /** target_session_attrs asks for a host that accepts writes. */
  writable: boolean;
  /** The URL with the first host alone and no target_session_attrs: user, database, TLS … */
  baseUrl: string;
}

export class DatabaseUrlError extends Error {
  readonly code = 'invalid_database_url';
}

const DEFAULT_PORT = 5432;
const WRITABLE_ATTRS = new Set(['read-write', 'primary']);
const SUPPORTED_ATTRS = new Set(['any', ...WRITABLE_ATTRS]);

function endpoint(text: string): DatabaseEndpoint {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!match?.[1] || port < 1 || port > 65535) {
    throw new DatabaseUrlError(`DATABASE_URL: '${text}' is not a host or host:port`);
  }
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * The hosts of a (multi-host) DATABASE_URL; throws DatabaseUrlError naming what is wrong. A URL
 * with one host and no target_session_attrs is left to node-postgres as it is (whatever form it
 * takes: a socket path, no host at all …).
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const parts = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)([^?#]*)(\?[^#]*)?$/.exec(url);
  const [, scheme = '', userInfo = '', hostList = '', path = '', query = ''] = parts ?? [];
  const params = new URLSearchParams(query.slice(1));
  const attrs = params.get('target_session_attrs');
  const hosts = hostList === '' ? [] : hostList.split(',');
  if (!parts || (hosts.length <= 1 && attrs === null)) {
    return { endpoints: [], writable: false, baseUrl: url };
  }
  if (attrs !== null && !SUPPORTED_ATTRS.has(attrs)) {
    throw new DatabaseUrlError(
      `DATABASE_URL: target_session_attrs=${attrs} is not supported (any, read-write, primary)`,
    );
  }
  if (hosts.length === 0) {
    throw new DatabaseUrlError('DATABASE_URL: target_session_attrs needs the host in the URL');
  }
  const endpoints = hosts.map(endpoint);
  params.delete('target_session_attrs');
  const first = endpoints[0] as DatabaseEndpoint;
  const host = first.host.includes(':') ? `[${first.host}]` : first.host;
  const rest = params.size > 0 ? `?${params.toString()}` : '';
  return {
    endpoints,
    writable: attrs !== null && WRITABLE_ATTRS.has(attrs),
    baseUrl: `${scheme}${userInfo}${host}:${first.port}${path}${rest}`,
  };
}

/** A target that needs host selection: several hosts, or one that must accept writes. */
export const needsHostSelection = (target: DatabaseTarget) => target.endpoints.length > 0;

const label = (e: DatabaseEndpoint) => `${e.host}:${e.port}`;

/** SQLSTATE read_only_sql_transaction: what a standby answers a write with. */
export const READ_ONLY_SQLSTATE = '25006';

function readOnlyHostError(e: DatabaseEndpoint): Error {
  return Object.assign(new Error(`database host ${label(e)} does not accept writes`), {
    code: READ_ONLY_SQLSTATE,
  });
}

/** Whether this connection's server takes writes: a primary, not a default read-only session. */
export async function acceptsWrites(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ writable: boolean }>(
    `SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable`,
  );
  return rows[0]?.writable === true;
}

export interface HostSelectorOptions {
  /** How long one host may take to accept a connection and answer. */
  connectMs: number;
  queryMs: number;
  /** Told each time a probe round picks a host (at start, and after a failover). */
  onChoose?: (chosen: DatabaseEndpoint, passedOver: { host: string; error: Error }[]) => void;
}

/**
 * Picks the host new connections go to, like libpq: the first in the URL's order that answers
 * (and, for `read-write`, accepts writes). The choice is kept until a connection to it fails or
 * finds it read-only; the next connection then probes again. Concurrent connections share one
 * probe round.
 */
export class HostSelector {
  private chosen: DatabaseEndpoint | undefined;
  private round: Promise<DatabaseEndpoint> | undefined;

  constructor(
    readonly target: DatabaseTarget,
    private readonly options: HostSelectorOptions,
  ) {}

  /** The host to connect to; rejects (an unavailable-database error) when none qualifies. */
  choose(): Promise<DatabaseEndpoint> {
    if (this.chosen) return Promise.resolve(this.chosen);
    this.round ??= this.probeAll().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** A connection to `e` failed or found it read-only: choose again next time. */
  lost(e: DatabaseEndpoint): void {
    if (this.chosen === e) this.chosen = undefined;
  }

  /** Verifies a connection just opened to `e`; the error to fail it with, if it does not qualify. */
  async verify(client: pg.ClientBase, e: DatabaseEndpoint): Promise<Error | undefined> {
    if (!this.target.writable || (await acceptsWrites(client))) return undefined;
    this.lost(e);
    return readOnlyHostError(e);
  }

  private async probeAll(): Promise<DatabaseEndpoint> {
    const failures: Error[] = [];
    for (const e of this.target.endpoints) {
      const failure = await this.probe(e);
      if (!failure) {
        this.chosen = e;
        const passedOver = failures.map((error, i) => ({
          host: label(this.target.endpoints[i] as DatabaseEndpoint),
          error,
        }));
        this.options.onChoose?.(e, passedOver);
        return e;
      }
      failures.push(failure);
    }
    throw new AggregateError(
      failures,
      `no database host ${this.target.writable ? 'accepts writes' : 'answers'} among ${this.target.endpoints.map(label).join(', ')}`,
    );
  }

  private async probe(e: DatabaseEndpoint): Promise<Error | undefined> {
    const client = new pg.Client({
      connectionString: this.target.baseUrl,
      connectionTimeoutMillis: this.options.connectMs,
      query_timeout: this.options.queryMs,
    });
    client.host = e.host;
    client.port = e.port;
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    try {
      if (this.target.writable && !(await acceptsWrites(client))) return readOnlyHostError(e);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
