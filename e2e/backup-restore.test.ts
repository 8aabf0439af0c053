import { chmod, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiWithAdmin } from '../control-api/src/test-support/test-api.js';
import { REPO_ROOT } from './support/otelcol.js';
import {
  archiveCommand,
  ClusterRoot,
  initCluster,
  PG_BINDIR,
  serverAccountName,
  startServer,
  waitForPrimary,
  type PostgresServer,
} from './support/postgres-cluster.js';
import { runCommand, waitFor } from './support/processes.js';
import {
  auditedWrites,
  databaseSnapshot,
  type DatabaseSnapshot,
} from './support/database-contents.js';

const script = (name: string) => join(REPO_ROOT, 'scripts', name);
const DAY_MS = 86_400_000;

let root: ClusterRoot;
let primary: PostgresServer | undefined;
let restored: PostgresServer | undefined;
let archiveDir: string;
let backupDir: string;
/** The database as the first dump holds it. */
let atBackup: DatabaseSnapshot;

/** The scripts' environment: the database by URL, the client programs of PostgreSQL 15. */
const scriptEnv = (database: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: primary!.url(database),
  BACKUP_DIR: backupDir,
  PG_BINDIR,
  ...extra,
});

async function run(name: string, args: string[], env: NodeJS.ProcessEnv) {
  const result = await runCommand(script(name), args, { env, timeoutMs: 120_000 });
  // The password reaches the programs through a PGPASSFILE: never printed.
  expect(result.stdout + result.stderr).not.toContain(root.password);
  return result;
}

beforeAll(async () => {
  root = await ClusterRoot.create();
  archiveDir = await root.ownedDir('wal-archive');
  backupDir = await mkdtemp(join(tmpdir(), 'cybercorp-backups-'));
  const dataDir = await initCluster(root, 'primary');
  primary = await startServer(root, dataDir, {
    wal_level: 'replica',
    archive_mode: 'on',
    archive_command: archiveCommand(archiveDir),
  });
  await primary.query('CREATE DATABASE cybercorp');
});

afterAll(async () => {
  await restored?.stop();
  await primary?.stop();
  await root?.remove();
  if (backupDir) await rm(backupDir, { recursive: true, force: true });
});

describe('scripts/backup and scripts/restore', () => {
  it('dump, drop the database, restore: every table and the audit come back identical', async () => {
    const { api, admin } = await startTestApiWithAdmin({ databaseUrl: primary!.url('cybercorp') });
    try {
      await auditedWrites(admin, 'before-backup', 25);
    } finally {
      await api.stop();
    }
    const before = await databaseSnapshot(primary!, 'cybercorp');
    atBackup = before;
    expect(before.rowCounts.audit_events).toBeGreaterThanOrEqual(25);

    // Retention: dumps of more than 30 days go, younger ones and other files stay.
    const old = join(backupDir, 'cybercorp-20261001T000000Z.dump');
    const young = join(backupDir, 'cybercorp-20261121T000000Z.dump');
    const other = join(backupDir, 'notes.txt');
    for (const [file, ageDays] of [
      [old, 40],
      [`${old}.sha256`, 40],
      [young, 10],
      [other, 40],
    ] as const) {
      await writeFile(file, 'x');
      const at = new Date(Date.now() - ageDays * DAY_MS);
      await utimes(file, at, at);
    }

    const backup = await run('backup', [], scriptEnv('cybercorp'));
    expect(backup.code, backup.stderr).toBe(0);
    const dump = backup.stdout.trim();
    expect(dump).toMatch(/cybercorp-\d{8}T\d{6}Z\.dump$/);
    for (const file of [dump, `${dump}.sha256`]) {
      expect(((await stat(file)).mode & 0o777).toString(8), file).toBe('600');
    }
    const files = await readdir(backupDir);
    expect(files).not.toContain('cybercorp-20261001T000000Z.dump');
    expect(files).not.toContain('cybercorp-20261001T000000Z.dump.sha256');
    expect(files).toEqual(expect.arrayContaining(['cybercorp-20261121T000000Z.dump', 'notes.txt']));
    expect(files.filter((f) => f.includes('partial'))).toEqual([]);

    await primary!.query('DROP DATABASE cybercorp WITH (FORCE)');
    await primary!.query('CREATE DATABASE cybercorp');
    const restore = await run('restore', [dump], scriptEnv('cybercorp'));
    expect(restore.code, restore.stderr).toBe(0);
    expect(await databaseSnapshot(primary!, 'cybercorp')).toEqual(before);

    // The API runs on the restored database: the admin logs in, the audit answers.
    const again = await startTestApiWithAdmin({ databaseUrl: primary!.url('cybercorp') });
    try {
      const audit = await again.admin.request('GET', '/api/v1/audit?limit=100');
      expect(audit.status).toBe(200);
      expect((audit.body.items as unknown[]).length).toBe(before.rowCounts.audit_events);
    } finally {
      await again.api.stop();
    }
  });

  it('refuses a database that is not empty unless --force, and a dump that fails its checksum', async () => {
    const dumps = (await readdir(backupDir)).filter((f) => /^cybercorp-.*Z\.dump$/.test(f)).sort();
    const dump = join(backupDir, dumps[dumps.length - 1] as string);
    const refused = await run('restore', [dump], scriptEnv('cybercorp'));
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('not empty');

    await primary!.query(
      'DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events LIMIT 3)',
      [],
      'cybercorp',
    );
    const forced = await run('restore', ['--force', dump], scriptEnv('cybercorp'));
    expect(forced.code, forced.stderr).toBe(0);
    // The dump's tables replaced, rows deleted since and rows added since (a login) alike.
    expect(await databaseSnapshot(primary!, 'cybercorp')).toEqual(atBackup);

    const damaged = join(backupDir, 'damaged.dump');
    const bytes = await readFile(dump);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0xff;
    await writeFile(damaged, bytes);
    await writeFile(
      `${damaged}.sha256`,
      (await readFile(`${dump}.sha256`, 'utf8')).replace(/\S+\.dump$/m, 'damaged.dump'),
    );
    await chmod(damaged, 0o600);
    const bad = await run('restore', ['--force', damaged], scriptEnv('cybercorp'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('checksum');
  });

  it('never puts the password on a command line', async () => {
    // Wrappers record the arguments each program was started with, then run the real one.
    const shims = await mkdtemp(join(tmpdir(), 'cybercorp-pg-shims-'));
    try {
      for (const program of ['pg_dump', 'pg_restore', 'psql']) {
        await writeFile(
          join(shims, program),
          `#!/bin/sh\nprintf '%s\\n' "$0 $*" >> ${shims}/argv\nexec ${PG_BINDIR}/${program} "$@"\n`,
          { mode: 0o700 },
        );
      }
      const env = scriptEnv('cybercorp', { PG_BINDIR: shims, BACKUP_DIR: join(shims, 'out') });
      const backup = await run('backup', [], env);
      expect(backup.code, backup.stderr).toBe(0);
      const restore = await run('restore', ['--force', backup.stdout.trim()], env);
      expect(restore.code, restore.stderr).toBe(0);
      const argv = await readFile(join(shims, 'argv'), 'utf8');
      expect(argv).toContain('pg_dump');
      expect(argv).toContain('pg_restore');
      expect(argv).not.toContain(root.password);
      expect(argv).not.toContain(encodeURIComponent(root.password));
    } finally {
      await rm(shims, { recursive: true, force: true });
    }
  });

  it('takes the connection from PG* variables, and a URL password with any character', async () => {
    // libpq's own variables, the password in a PGPASSFILE of the operator's.
    const { DATABASE_URL: _unused, ...withoutUrl } = scriptEnv('cybercorp');
    const pgEnv = {
      ...withoutUrl,
      PGHOST: '127.0.0.1',
      PGPORT: String(primary!.port),
      PGUSER: 'postgres',
      PGDATABASE: 'cybercorp',
      PGPASSFILE: await root.passFile(),
      BACKUP_PREFIX: 'by-pg-variables',
    };
    const backup = await run('backup', [], pgEnv);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout.trim()).toMatch(/by-pg-variables-\d{8}T\d{6}Z\.dump$/);
    const restore = await run('restore', ['--force', backup.stdout.trim()], pgEnv);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await databaseSnapshot(primary!, 'cybercorp')).toEqual(atBackup);

    // The characters a URL percent-encodes and a .pgpass file escapes.
    const password = 'p@ss:w%rd\\ /?#x';
    await primary!.query(
      `CREATE ROLE backup_operator LOGIN PASSWORD '${password.replace(/'/g, "''")}' IN ROLE pg_read_all_data`,
    );
    const url = `postgres://backup_operator:${encodeURIComponent(password)}@${primary!.hostPort}/cybercorp`;
    const special = await runCommand(script('backup'), [], {
      env: { ...scriptEnv('cybercorp'), DATABASE_URL: url, BACKUP_PREFIX: 'special' },
      timeoutMs: 120_000,
    });
    expect(special.code, special.stderr).toBe(0);
    expect(special.stdout + special.stderr).not.toContain(password);
    expect(special.stdout.trim()).toMatch(/special-\d{8}T\d{6}Z\.dump$/);
  });
});

describe('scripts/backup and scripts/base-backup settings', () => {
  it('refuse a malformed retention or prefix (exit 2), naming themselves, writing nothing', async () => {
    const untouched = join(backupDir, 'never-created');
    const malformed = [
      ['BACKUP_RETENTION_DAYS', '0', "BACKUP_RETENTION_DAYS must be a positive integer, got '0'"],
      ['BACKUP_PREFIX', '../up', 'BACKUP_PREFIX may hold only letters, digits, . _ -'],
    ] as const;
    for (const name of ['backup', 'base-backup']) {
      for (const [variable, value, message] of malformed) {
        const env = scriptEnv('cybercorp', { BACKUP_DIR: untouched, [variable]: value });
        const result = await run(name, [], env);
        expect(result.code, `${name} with ${variable}=${value}`).toBe(2);
        expect(result.stderr).toBe(`${name}: ${message}\n`);
      }
    }
    await expect(stat(untouched)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('point-in-time recovery (scripts/base-backup, scripts/restore-pitr)', () => {
  it('recovers to a moment before a deliberate DELETE: the rows are back', async () => {
    const { api, admin } = await startTestApiWithAdmin({ databaseUrl: primary!.url('cybercorp') });
    let target: string;
    let baseDir: string;
    let atTarget: Awaited<ReturnType<typeof databaseSnapshot>>;
    try {
      const base = await run('base-backup', [], scriptEnv('cybercorp'));
      expect(base.code, base.stderr).toBe(0);
      baseDir = base.stdout.trim();
      expect(baseDir).toMatch(/cybercorp-base-\d{8}T\d{6}Z$/);
      // Written after the base backup: only the archive's WAL brings these back.
      await auditedWrites(admin, 'after-base-backup', 10);
      atTarget = await databaseSnapshot(primary!, 'cybercorp');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const [now] = await primary!.query<{ at: string }>(`SELECT clock_timestamp()::text AS at`);
      target = now!.at;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const [deleted] = await primary!.query<{ n: string }>(
        `WITH gone AS (DELETE FROM audit_events RETURNING 1) SELECT count(*) AS n FROM gone`,
        [],
        'cybercorp',
      );
      expect(Number(deleted!.n)).toBe(atTarget.rowCounts.audit_events);
      // The segment holding the DELETE goes to the archive now, not when it fills up.
      const [switched] = await primary!.query<{ wal: string }>(
        `SELECT pg_walfile_name(pg_switch_wal()) AS wal`,
      );
      await waitFor('the WAL segment with the DELETE to be archived', async () => {
        const [archived] = await primary!.query<{ last: string | null }>(
          'SELECT last_archived_wal AS last FROM pg_stat_archiver',
        );
        return archived?.last && archived.last >= switched!.wal ? true : undefined;
      });

      const dataDir = join(root.dir, 'pitr');
      const prepared = await runCommand(
        script('restore-pitr'),
        [
          '--base',
          baseDir,
          '--archive',
          archiveDir,
          '--target-time',
          target,
          '--data-dir',
          dataDir,
          '--owner',
          serverAccountName(),
        ],
        { timeoutMs: 120_000 },
      );
      expect(prepared.code, prepared.stderr).toBe(0);
      restored = await startServer(root, dataDir);
      await waitForPrimary(restored);
    } finally {
      await api.stop();
    }
    const recovered = await databaseSnapshot(restored, 'cybercorp');
    expect(recovered).toEqual(atTarget);
    const names = await restored.query<{ target_id: string }>(
      `SELECT target_id FROM audit_events WHERE action = 'user.create' AND target_id LIKE 'after-base-backup-%'`,
      [],
      'cybercorp',
    );
    expect(names.length).toBe(10);
    expect(await primary!.query('SELECT 1 FROM audit_events', [], 'cybercorp')).toEqual([]);

    // A data directory in use is never overwritten.
    const again = await runCommand(script('restore-pitr'), [
      '--base',
      baseDir,
      '--archive',
      archiveDir,
      '--target-time',
      target,
      '--data-dir',
      join(root.dir, 'pitr'),
    ]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('not empty');
  });
});

describe('scripts/backup-schedule', () => {
  it('runs daily at BACKUP_AT (UTC): the next run is less than a day away, at that minute', async () => {
    const inTwoMinutes = new Date(Date.now() + 120_000);
    const at = inTwoMinutes.toISOString().slice(11, 16);
    const next = await runCommand(script('backup-schedule'), ['--next'], {
      env: { ...process.env, BACKUP_AT: at },
    });
    expect(next.code, next.stderr).toBe(0);
    const seconds = Number(next.stdout.trim());
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(120);
    const midnight = await runCommand(script('backup-schedule'), ['--next'], {
      env: { ...process.env, BACKUP_AT: '00:00' },
    });
    const untilMidnight = Number(midnight.stdout.trim());
    expect(untilMidnight).toBeGreaterThan(0);
    expect(untilMidnight).toBeLessThanOrEqual(86_400);
    const offMidnight = (Date.now() / 1000 + untilMidnight) % 86_400;
    expect(Math.min(offMidnight, 86_400 - offMidnight)).toBeLessThan(5);
    const bad = await runCommand(script('backup-schedule'), ['--next'], {
      env: { ...process.env, BACKUP_AT: '25:00' },
    });
    expect(bad.code).toBe(2);
  });
});
