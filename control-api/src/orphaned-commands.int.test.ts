import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRepository, type CommandStart } from './repositories/commands.js';
import { ORPHAN_GRACE_MS } from './services/command-relay.js';
import { FakeAgent } from './test-support/fake-agent.js';
import type { ApiClient } from './test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

/**
 * Actions an instance left pending when it died (it wrote them before sending, and never their
 * end) are ended `unknown` by the instances still running, each exactly once, in PostgreSQL.
 */

let api: TestApi;
let admin: ApiClient;
let agentId: string;
const pools: pg.Pool[] = [];

const outcome = () => ({
  errorCode: 'outcome_unknown',
  errorMessage: 'its instance stopped before it was answered',
  finishedAt: new Date(),
});

function pendingAction(deadlineAt: Date, reason: string): CommandStart {
  return {
    id: uuidv7(),
    agentId,
    type: 'process.signal',
    target: '4242',
    action: 'kill',
    reason,
    actor: 'admin',
    createdAt: new Date(deadlineAt.getTime() - 5000),
    deadlineAt,
  };
}

/** A repository on a pool of its own: one per instance sweeping. */
function instanceRepository(): CommandRepository {
  const pool = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
  pools.push(pool);
  return new CommandRepository(pool);
}

beforeAll(async () => {
  ({ api, admin } = await startTestApiWithAdmin());
  const agent = await FakeAgent.start({
    url: api.opampUrl,
    token: await api.createAgentToken('orphans'),
  });
  agentId = agent.instanceUid;
  await agent.disconnect();
});
afterAll(async () => {
  for (const pool of pools) await pool.end();
  await api?.stop();
});

describe('actions left pending by an instance that died', () => {
  it('end unknown once, with one audit event each, however many instances sweep at once', async () => {
    const [first, second] = [instanceRepository(), instanceRepository()];
    const longAgo = new Date(Date.now() - ORPHAN_GRACE_MS - 60_000);
    const orphans = Array.from({ length: 20 }, (_, i) => pendingAction(longAgo, `orphan ${i}`));
    // Still within its deadline and grace: its instance may be about to record it.
    const live = pendingAction(new Date(Date.now() + 5000), 'live');
    await first.insertPending([...orphans, live]);

    const cutoff = new Date(Date.now() - ORPHAN_GRACE_MS);
    const [a, b] = await Promise.all([
      first.expireOrphaned(cutoff, outcome()),
      second.expireOrphaned(cutoff, outcome()),
    ]);
    expect([...a, ...b].sort()).toEqual(orphans.map((o) => o.id).sort());
    expect(await first.expireOrphaned(cutoff, outcome())).toEqual([]);

    for (const orphan of orphans.slice(0, 3)) {
      const command = await admin.request('GET', `/api/v1/commands/${orphan.id}`);
      expect(command.body).toMatchObject({ status: 'unknown', errorCode: 'outcome_unknown' });
    }
    expect((await admin.request('GET', `/api/v1/commands/${live.id}`)).body.status).toBe('pending');
    const audit = await admin.request<{ items: Record<string, unknown>[] }>(
      'GET',
      `/api/v1/audit?agentId=${agentId}&limit=100`,
    );
    expect(audit.body.items).toHaveLength(orphans.length);
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({
        commandId: orphans[0]!.id,
        action: 'process.kill',
        targetType: 'process',
        targetId: '4242',
        reason: 'orphan 0',
        actor: 'admin',
        outcome: 'unknown',
        errorCode: 'outcome_unknown',
      }),
    );
  });
});
