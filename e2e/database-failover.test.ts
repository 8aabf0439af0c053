import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, Reply } from '../control-api/src/test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from '../control-api/src/test-support/test-api.js';
import { auditedWrites } from './support/database-contents.js';
import {
  ClusterRoot,
  initCluster,
  replicationState,
  restartStandby,
  STANDBY_NAME,
  startServer,
  startStandby,
  waitForPrimary,
  type PostgresServer,
} from './support/postgres-cluster.js';
import { waitFor } from './support/processes.js';

// A primary with one synchronous streaming standby, and a real control API given both hosts
// (target_session_attrs=read-write). The primary is lost (SIGKILL), the standby promoted: the
// API writes again on its own, and what it acknowledged before is on the new primary.

let root: ClusterRoot;
let primary: PostgresServer | undefined;
let standby: PostgresServer | undefined;
let api: TestApi | undefined;
let admin: ApiClient;

/** A write through the API (a user and its audit row), answered or not within 10 s. */
async function writeUser(username: string): Promise<Reply> {
  return admin.request('POST', '/api/v1/users', {
    username,
    password: `password-of-${username}`,
    role: 'viewer',
  });
}

const auditedUser = async (server: PostgresServer, username: string) =>
  (
    await server.query(
      `SELECT 1 FROM audit_events WHERE action = 'user.create' AND target_id = $1`,
      [username],
      'cybercorp',
    )
  ).length === 1;

beforeAll(async () => {
  root = await ClusterRoot.create();
  primary = await startServer(root, await initCluster(root, 'primary'), { wal_level: 'replica' });
  await primary.query('CREATE DATABASE cybercorp');
  standby = await startStandby(primary, 'standby');
  // From now on a commit is acknowledged once the standby has it on disk: no acknowledged row
  // is lost. Set after the standby exists (a commit would wait for it), and in the primary's
  // own configuration, which the standby's copy was taken before.
  await primary.query(`ALTER SYSTEM SET synchronous_standby_names = '${STANDBY_NAME}'`);
  await primary.query(`ALTER SYSTEM SET synchronous_commit = 'on'`);
  await primary.query('SELECT pg_reload_conf()');
  await waitFor('the standby to be synchronous', async () =>
    (await replicationState(primary!))?.sync_state === 'sync' ? true : undefined,
  );
  // The standby first: the API must pass over a host that does not take writes.
  const url = `postgres://postgres:${encodeURIComponent(root.password)}@${standby.hostPort},${primary.hostPort}/cybercorp?target_session_attrs=read-write`;
  ({ api, admin } = await startTestApiWithAdmin({ databaseUrl: url }));
});

afterAll(async () => {
  await api?.stop();
  await standby?.stop();
  await primary?.stop();
  await root?.remove();
});

describe('synchronous streaming replication', () => {
  it('acknowledges a write only once the standby has it; a lost standby holds writes (503) until it is back', async () => {
    expect(await replicationState(primary!)).toEqual({ state: 'streaming', sync_state: 'sync' });
    const [acked] = await auditedWrites(admin, 'replicated', 1);
    expect(await auditedUser(standby!, acked!)).toBe(true);

    await standby!.stop();
    const held = await writeUser('while-standby-away');
    expect(held.status, JSON.stringify(held.body)).toBe(503);
    expect(held.body.code).toBe('database_unavailable');

    standby = await restartStandby(primary!, standby!);
    await waitFor('a write to be acknowledged again', async () =>
      (await writeUser('standby-back')).status === 201 ? true : undefined,
    );
    expect(await auditedUser(standby, 'standby-back')).toBe(true);
  });
});

describe('a primary that turns read-only', () => {
  it('answers 503 while no host takes writes, and writes again once one does', async () => {
    // How an operator fences a primary before a switchover: writes fail with 25006.
    const readOnly = async (on: boolean) => {
      await primary!.query(`ALTER SYSTEM SET default_transaction_read_only = ${on ? 'on' : 'off'}`);
      await primary!.query('SELECT pg_reload_conf()');
    };
    const answers = new Set<string>();
    const write = async (name: string) => {
      const reply = await writeUser(`${name}-${answers.size}-${Date.now()}`);
      answers.add(
        `${reply.status} ${typeof reply.body.code === 'string' ? reply.body.code : ''}`.trim(),
      );
      return reply;
    };
    await readOnly(true);
    try {
      await waitFor('writes to be refused', async () =>
        (await write('fenced')).status === 503 ? true : undefined,
      );
    } finally {
      await readOnly(false);
    }
    await waitFor('a write to be acknowledged again', async () =>
      (await write('unfenced')).status === 201 ? true : undefined,
    );
    // Never a 500: acknowledged, or refused as the database being unavailable.
    expect([...answers].sort()).toEqual(['201', '503 database_unavailable']);
  });
});

describe('failover to the promoted standby', () => {
  it('the API writes again after the promotion, and keeps every acknowledged audit row', async () => {
    const acknowledged = await auditedWrites(admin, 'before-failover', 5);
    const last = acknowledged[acknowledged.length - 1]!;

    await primary!.kill();
    const lostAt = Date.now();
    // Refused while no host takes writes. (A backend of the dead primary that had not yet
    // noticed its death could still commit, through the standby: then it is acknowledged and
    // must be kept like the others.)
    const during = await writeUser('during-failover');
    if (during.status === 201) acknowledged.push('during-failover');
    else {
      expect(during.status, JSON.stringify(during.body)).toBe(503);
      expect(during.body.code).toBe('database_unavailable');
    }

    await standby!.query('SELECT pg_promote(true, 60)');
    await waitForPrimary(standby!);
    const promotedAt = Date.now();
    let attempt = 0;
    await waitFor(
      'the API to write on the promoted standby',
      async () =>
        (await writeUser(`after-failover-${attempt++}`)).status === 201 ? true : undefined,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const resumedAt = Date.now();
    console.log(
      `failover: the API wrote again ${((resumedAt - promotedAt) / 1000).toFixed(2)} s after the promotion (${((resumedAt - lostAt) / 1000).toFixed(2)} s after the primary was lost; the issue asks for 10 s)`,
    );

    for (const username of acknowledged) expect(await auditedUser(standby!, username)).toBe(true);
    expect(await auditedUser(standby!, last)).toBe(true);
    const audit = await admin.request('GET', '/api/v1/audit?limit=500');
    expect(audit.status).toBe(200);
    const targets = (audit.body.items as { targetId: string }[]).map((e) => e.targetId);
    expect(targets).toEqual(expect.arrayContaining(acknowledged));
  });
});
