/**
 * Real Debian PostgreSQL 15 servers for backup, recovery and failover tests: clusters made with
 * initdb, servers started in the foreground on free loopback ports and stopped by the pid the
 * test spawned, streaming replicas made with pg_basebackup.
 *
 * PostgreSQL refuses to run as root (and tests run as root in CI), so its programs run as the
 * `postgres` account the Debian package creates, through setpriv, which execs the program: the
 * pid spawned is the postmaster's own.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { REPO_ROOT } from './otelcol.js';
import {
  freePort,
  MissingBinaryError,
  runCommand,
  startProcess,
  stopIfNotReady,
  waitFor,
  type RunResult,
  type StartedProcess,
} from './processes.js';

export const PG_BINDIR = '/usr/lib/postgresql/15/bin';
const PG_HINT = 'Debian packages postgresql-15 and postgresql-client-15, see scripts/setup-deps';
const SERVER_ACCOUNT = 'postgres';
export const SUPERUSER = 'postgres';

/** Absolute path of a PostgreSQL 15 program; throws MissingBinaryError naming it when absent. */
export function pgProgram(name: string): string {
  const path = join(PG_BINDIR, name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new MissingBinaryError(path, PG_HINT);
  }
  return path;
}

/** The name of the account servers run as: `postgres` as root, else the test's own. */
export const serverAccountName = (): string =>
  process.getuid?.() === 0 ? SERVER_ACCOUNT : userInfo().username;

/** The account servers run as: `postgres` as root, else the test's own. */
async function serverAccount(): Promise<{ uid: number; gid: number }> {
  if (process.getuid?.() !== 0)
    return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const id = async (flag: string) => {
    const result = await runCommand('id', [flag, SERVER_ACCOUNT]);
    if (result.code !== 0) {
      throw new MissingBinaryError(`user ${SERVER_ACCOUNT}`, `created by ${PG_HINT}`);
    }
    return Number.parseInt(result.stdout, 10);
  };
  return { uid: await id('-u'), gid: await id('-g') };
}

/** The command line that runs `program` as the server account (as is when not root). */
function asServerAccount(program: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [program, args];
  return [
    'setpriv',
    [
      `--reuid=${SERVER_ACCOUNT}`,
      `--regid=${SERVER_ACCOUNT}`,
      '--init-groups',
      '--',
      program,
      ...args,
    ],
  ];
}

/** Runs a PostgreSQL program to completion as the server account; throws with its output. */
export async function runAsServerAccount(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunResult> {
  const [command, argv] = asServerAccount(pgProgram(program), args);
  const result = await runCommand(command, argv, { env, timeoutMs: 120_000 });
  if (result.code !== 0) {
    throw new Error(`${program} ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr}`);
  }
  return result;
}

/** A temporary directory for clusters, WAL archives and password files, owned by the server account. */
export class ClusterRoot {
  private constructor(
    readonly dir: string,
    readonly password: string,
    readonly passwordFile: string,
    private readonly owner: { uid: number; gid: number },
  ) {}

  static async create(): Promise<ClusterRoot> {
    pgProgram('postgres');
    const owner = await serverAccount();
    const dir = await mkdtemp(join(tmpdir(), 'cybercorp-pg-'));
    await chown(dir, owner.uid, owner.gid);
    const password = randomBytes(18).toString('base64url');
    const passwordFile = join(dir, 'superuser-password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    await chown(passwordFile, owner.uid, owner.gid);
    return new ClusterRoot(dir, password, passwordFile, owner);
  }

  /** A directory inside the root owned by the server account (e.g. the WAL archive). */
  async ownedDir(name: string): Promise<string> {
    const dir = join(this.dir, name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chown(dir, this.owner.uid, this.owner.gid);
    await chmod(dir, 0o700);
    return dir;
  }

  /** A libpq password file for the superuser, so client programs never get it on argv. */
  async passFile(): Promise<string> {
    const file = join(this.dir, 'pgpass');
    await writeFile(file, `*:*:*:*:${this.password}\n`, { mode: 0o600 });
    await chown(file, this.owner.uid, this.owner.gid);
    return file;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface ServerSettings {
  [name: string]: string | number;
}

/** A PostgreSQL server the test started; its pid is the postmaster's. */
export class PostgresServer {
  constructor(
    readonly root: ClusterRoot,
    readonly dataDir: string,
    readonly port: number,
    readonly process: StartedProcess,
  ) {}

  get pid(): number {
    return this.process.pid;
  }

  url(database = 'postgres'): string {
    return `postgres://${SUPERUSER}:${encodeURIComponent(this.root.password)}@127.0.0.1:${this.port}/${database}`;
  }

  /** host:port, as in a multi-host URL. */
  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    values: unknown[] = [],
    database = 'postgres',
  ): Promise<R[]> {
    const client = new pg.Client({
      connectionString: this.url(database),
      connectionTimeoutMillis: 5000,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(sql, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Fast shutdown (SIGINT to the postmaster this test spawned), SIGKILL if it hangs. */
  async stop(): Promise<void> {
    if (this.process.exited()) return;
    this.process.signal('SIGINT');
    const stopped = await Promise.race([
      this.process.exit().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 30_000).unref()),
    ]);
    if (!stopped && !this.process.exited()) {
      this.process.signal('SIGKILL');
      await this.process.exit();
    }
  }

  /** The server lost at once, as with a dead machine: SIGKILL to the postmaster. */
  async kill(): Promise<void> {
    this.process.signal('SIGKILL');
    await this.process.exit();
  }
}

/** initdb of a new cluster under the root, the superuser's password from the root's file. */
export async function initCluster(root: ClusterRoot, name: string): Promise<string> {
  const dataDir = join(root.dir, name);
  await runAsServerAccount('initdb', [
    `--pgdata=${dataDir}`,
    `--username=${SUPERUSER}`,
    `--pwfile=${root.passwordFile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C',
  ]);
  return dataDir;
}

/**
 * Starts the server of `dataDir` in the foreground on a free loopback port (TCP only) and waits
 * until it accepts connections (`ready` decides, e.g. that a standby is streaming).
 */
export async function startServer(
  root: ClusterRoot,
  dataDir: string,
  settings: ServerSettings = {},
  options: {
    ready?: (server: PostgresServer) => Promise<boolean>;
    timeoutMs?: number;
    /** A restart keeps its port (default: a free one). */
    port?: number;
  } = {},
): Promise<PostgresServer> {
  const port = options.port ?? (await freePort());
  const all: ServerSettings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    port,
    logging_collector: 'off',
    ...settings,
  };
  const args = ['-D', dataDir, ...Object.entries(all).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const [command, argv] = asServerAccount(pgProgram('postgres'), args);
  const child = startProcess(command, argv, { name: `postgres ${dataDir}` });
  const server = new PostgresServer(root, dataDir, port, child);
  await stopIfNotReady(child, async () => {
    await waitFor(
      `PostgreSQL on port ${port} to accept connections`,
      async () => {
        await server.query('SELECT 1');
        return (await (options.ready?.(server) ?? Promise.resolve(true))) ? true : undefined;
      },
      { process: child, timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 250 },
    );
  });
  return server;
}

/** Copies a finished WAL segment into an archive, never overwriting; compose's primary runs it too. */
export const ARCHIVE_WAL_SCRIPT = join(REPO_ROOT, 'scripts/postgres/archive-wal');

/**
 * The archive_command copying each finished WAL segment into `archiveDir` with the archive
 * script, found at `script` (where a container mounts it; by default the repository's).
 */
export function archiveCommand(archiveDir: string, script = ARCHIVE_WAL_SCRIPT): string {
  return `${script} ${archiveDir} %p %f`;
}

export const STANDBY_NAME = 'cybercorp_standby';

/**
 * A streaming standby of `primary`: pg_basebackup (as the server account), then a standby.signal
 * and a primary_conninfo naming it `STANDBY_NAME`, which the primary's synchronous_standby_names
 * may list. Waits until the primary sees it streaming.
 */
export async function startStandby(
  primary: PostgresServer,
  name: string,
  settings: ServerSettings = {},
): Promise<PostgresServer> {
  const { root } = primary;
  const dataDir = join(root.dir, name);
  const passFile = await root.passFile();
  await runAsServerAccount(
    'pg_basebackup',
    [
      `--dbname=host=127.0.0.1 port=${primary.port} user=${SUPERUSER}`,
      `--pgdata=${dataDir}`,
      '--wal-method=stream',
      '--checkpoint=fast',
      '--no-password',
    ],
    { ...process.env, PGPASSFILE: passFile },
  );
  await writeFile(
    join(dataDir, 'postgresql.auto.conf'),
    `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=${SUPERUSER} passfile=${passFile} application_name=${STANDBY_NAME}'\n`,
    { flag: 'a' },
  );
  await writeFile(join(dataDir, 'standby.signal'), '');
  const owner = await serverAccount();
  await chown(join(dataDir, 'standby.signal'), owner.uid, owner.gid);
  return startServer(root, dataDir, settings, { ready: () => isStreaming(primary) });
}

/** Restarts a standby stopped by the test, on its own port, and waits until it streams again. */
export async function restartStandby(
  primary: PostgresServer,
  standby: PostgresServer,
  settings: ServerSettings = {},
): Promise<PostgresServer> {
  return startServer(primary.root, standby.dataDir, settings, {
    port: standby.port,
    ready: () => isStreaming(primary),
  });
}

/** How the primary sees the standby named STANDBY_NAME: sync_state 'sync' when synchronous. */
export async function replicationState(
  primary: PostgresServer,
): Promise<{ state: string; sync_state: string } | undefined> {
  const [row] = await primary.query<{ state: string; sync_state: string }>(
    'SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1',
    [STANDBY_NAME],
  );
  return row;
}

const isStreaming = async (primary: PostgresServer) =>
  (await replicationState(primary))?.state === 'streaming';

/** Waits until the server has left recovery (promoted, or recovery reached its target). */
export async function waitForPrimary(server: PostgresServer, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `PostgreSQL on port ${server.port} to leave recovery`,
    async () => {
      const [row] = await server.query<{ standby: boolean }>(
        'SELECT pg_is_in_recovery() AS standby',
      );
      return row?.standby === false ? true : undefined;
    },
    { process: server.process, timeoutMs, intervalMs: 250 },
  );
}
