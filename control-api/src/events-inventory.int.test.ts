import { randomUUID } from 'node:crypto';
import { CONTROL_CAPABILITY, WINDOWS_CAPABILITY, type WindowHistory } from '@cybercorp/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from './infra/clock.js';
import { silentLogger } from './infra/logger.js';
import { PartitionRepository } from './repositories/history-partitions.js';
import { RetentionRepository } from './repositories/retention.js';
import { HistoryRetention } from './services/history-retention.js';
import { FakeAgent, WINDOW_FIXTURE } from './test-support/fake-agent.js';
import { otlpJson } from './test-support/otlp-exports.js';
import type { ApiClient } from './test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

interface Event {
  id: string;
  type: string;
  agentId: string | null;
  actor: string | null;
  outcome: string | null;
  commandId: string | null;
  auditId: string | null;
  details: Record<string, unknown>;
}
interface ProcessHistory {
  snapshotAt: string | null;
  items: {
    pid: number;
    name: string | null;
    actedOn: string | null;
    cpuUtilization: number | null;
  }[];
}

/** OTLP/JSON of the agent's per-process metrics for `processes` at `atMs`. */
function processExport(agentId: string, atMs: number, processes: [number, string, number][]) {
  const attributes = (pid: number, name: string) => ({
    'process.pid': pid,
    'process.executable.name': name,
    'process.owner': 'tester',
  });
  return otlpJson({ 'host.name': 'web-3', 'service.instance.id': agentId }, [
    {
      name: 'process.cpu.utilization',
      kind: 'gauge',
      points: processes.map(([pid, name, cpu]) => ({
        attributes: attributes(pid, name),
        timeMs: atMs,
        value: cpu,
      })),
    },
    {
      name: 'process.memory.usage',
      kind: 'sum',
      points: processes.map(([pid, name]) => ({
        attributes: attributes(pid, name),
        timeMs: atMs,
        value: pid * 1024,
        asInt: true,
      })),
    },
  ]);
}

describe('events and the inventory history', () => {
  let api: TestApi;
  let admin: ApiClient;
  let db: pg.Pool;
  let agentToken: string;
  let ingestToken: string;

  const ingest = async (body: unknown) => {
    const reply = await fetch(`${api.url}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(reply.status).toBe(200);
  };
  const startAgent = () =>
    FakeAgent.start({
      url: api.opampUrl,
      token: agentToken,
      hostname: 'web-3',
      customCapabilities: [CONTROL_CAPABILITY, WINDOWS_CAPABILITY],
    });
  const eventsOf = async (query: string) =>
    (
      await admin.request<{ items: Event[]; nextCursor: string | null }>(
        'GET',
        `/api/v1/events?${query}`,
      )
    ).body;

  beforeAll(async () => {
    ({ api, admin } = await startTestApiWithAdmin({ inventoryIntervalSeconds: 60 }));
    db = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
    db.on('error', () => undefined);
    agentToken = await api.createAgentToken('inventory');
    ingestToken = await api.createServiceToken('collector', 'ingest');
  });

  afterAll(async () => {
    await db?.end();
    await api?.stop();
  });

  it('records agents connecting and going away, and every audited action, as events', async () => {
    const agent = await startAgent();
    const kill = await admin.request<{ commandId: string }>(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
      { action: 'kill', reason: 'runaway' },
    );
    expect(kill.status).toBe(200);
    await agent.drop();

    const agentEvents = await expectEventually(async () => {
      const { items } = await eventsOf(`agentId=${agent.instanceUid}`);
      return items.some((e) => e.type === 'agent.disconnected') ? items : undefined;
    });
    // Newest first: gone, the kill, connected.
    expect(agentEvents.map((e) => e.type)).toEqual([
      'agent.disconnected',
      'process.kill',
      'agent.connected',
    ]);
    const [gone, killed, connected] = agentEvents;
    expect(killed).toMatchObject({
      actor: 'admin',
      outcome: 'succeeded',
      commandId: kill.body.commandId,
      auditId: expect.stringMatching(/^\d+$/),
      details: { reason: 'runaway' },
    });
    const audit = await admin.request<{ items: { id: string; commandId: string }[] }>(
      'GET',
      `/api/v1/audit?agentId=${agent.instanceUid}`,
    );
    expect(audit.body.items.map((a) => a.id)).toEqual([killed!.auditId]);
    expect(connected!.details).toMatchObject({ transport: 'websocket' });
    expect(gone!.details).toMatchObject({ reason: 'closed' });

    // Token and user changes are events too; filters and paging apply.
    await admin.request('POST', '/api/v1/agent-tokens', { name: `events-${randomUUID()}` });
    const tokens = await eventsOf('type=agent_token.create');
    expect(tokens.items.length).toBeGreaterThanOrEqual(1);
    const page1 = await eventsOf(`agentId=${agent.instanceUid}&limit=2`);
    expect(page1.items.map((e) => e.type)).toEqual(['agent.disconnected', 'process.kill']);
    const page2 = await eventsOf(`agentId=${agent.instanceUid}&limit=2&cursor=${page1.nextCursor}`);
    expect(page2).toEqual({
      items: [expect.objectContaining({ type: 'agent.connected' })],
      nextCursor: null,
    });
    const future = await eventsOf(`since=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(future.items).toEqual([]);
    const bad = await admin.request('GET', '/api/v1/events?since=yesterday');
    expect(bad.body).toMatchObject({ code: 'validation_failed' });
  });

  it('answers what was running then from the process snapshots, after the process is gone', async () => {
    const agent = await startAgent();
    const t0 = Date.now() - 10 * 60_000;
    await ingest(
      processExport(agent.instanceUid, t0, [
        [100, 'postgres', 0.5],
        [200, 'nginx', 0.1],
      ]),
    );
    // Ten seconds later with the same processes: not due (INVENTORY_INTERVAL is 60 s).
    await ingest(
      processExport(agent.instanceUid, t0 + 10_000, [
        [100, 'postgres', 0.9],
        [200, 'nginx', 0.1],
      ]),
    );
    // A new process shows up: kept at once.
    await ingest(
      processExport(agent.instanceUid, t0 + 20_000, [
        [100, 'postgres', 0.5],
        [300, 'stress', 0.99],
      ]),
    );
    const at = (ms: number) =>
      admin.request<ProcessHistory>(
        'GET',
        `/api/v1/agents/${agent.instanceUid}/processes?at=${new Date(ms).toISOString()}`,
      );

    const first = await at(t0 + 15_000);
    expect(first.body.snapshotAt).toBe(new Date(t0).toISOString());
    expect(first.body.items.map((p) => [p.pid, p.name, p.cpuUtilization])).toEqual([
      [100, 'postgres', 0.5],
      [200, 'nginx', 0.1],
    ]);
    const later = await at(t0 + 5 * 60_000);
    expect(later.body.snapshotAt).toBe(new Date(t0 + 20_000).toISOString());
    expect(later.body.items.map((p) => p.pid)).toEqual([100, 300]);
    const before = await at(t0 - 60_000);
    expect(before.body).toMatchObject({ snapshotAt: null, items: [] });

    // A process acted on is kept too, described as the last snapshot saw it.
    await ingest(processExport(agent.instanceUid, Date.now() - 1000, [[4242, 'sleep', 0]]));
    expect(
      (
        await admin.request('POST', `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`, {
          action: 'suspend',
        })
      ).status,
    ).toBe(200);
    const now = await at(Date.now() + 1000);
    expect(now.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pid: 4242, name: 'sleep', actedOn: null }),
        expect.objectContaining({ pid: 4242, name: 'sleep', actedOn: 'process.suspend' }),
      ]),
    );
    // Process metrics are inventory, not metric series.
    const { rows } = await db.query(`SELECT 1 FROM metric_series WHERE name LIKE 'process.%'`);
    expect(rows).toEqual([]);
    await agent.disconnect();
  });

  it('keeps the window lists that window events carry', async () => {
    const agent = await startAgent();
    agent.sendWindowEvent({
      type: 'window.event',
      change: 'snapshot',
      windows: WINDOW_FIXTURE,
      at: Date.now(),
    });
    const rows = await expectEventually(async () => {
      const { rows: found } = await db.query<{ title: string; active: boolean }>(
        'SELECT title, active FROM windows WHERE agent_id = $1',
        [agent.instanceUid],
      );
      return found.length > 0 ? found : undefined;
    });
    expect(rows).toEqual([{ title: 'xterm', active: true }]);
    await agent.disconnect();
  });

  it('answers the windows open then from the window snapshots, after they have closed', async () => {
    const agent = await startAgent();
    const windowsAt = async (at: Date | string) =>
      (
        await admin.request<WindowHistory>(
          'GET',
          `/api/v1/agents/${agent.instanceUid}/windows?at=${typeof at === 'string' ? at : at.toISOString()}`,
        )
      ).body;
    const soon = () => new Date(Date.now() + 1000);
    const beforeAny = new Date(Date.now() - 60_000);
    const xterm = WINDOW_FIXTURE[0]!;
    const editor = { ...xterm, id: '0x1a00004', title: 'editor', pid: null, active: false };

    agent.sendWindowEvent({
      type: 'window.event',
      change: 'snapshot',
      windows: [editor, xterm],
      at: Date.now(),
    });
    const first = await expectEventually(async () => {
      const answer = await windowsAt(soon());
      return answer.items.length > 0 ? answer : undefined;
    });
    // The live list's items, ordered by window id.
    expect(first).toMatchObject({ source: 'history', items: [xterm, editor] });

    agent.sendWindowEvent({
      type: 'window.event',
      change: 'removed',
      windowId: xterm.id,
      windows: [{ ...editor, active: true }],
      at: Date.now(),
    });
    const second = await expectEventually(async () => {
      const answer = await windowsAt(soon());
      return answer.snapshotAt !== first.snapshotAt ? answer : undefined;
    });
    expect(second.items).toEqual([{ ...editor, active: true }]);

    // The last one closed: from then on, none was open.
    agent.sendWindowEvent({
      type: 'window.event',
      change: 'removed',
      windowId: editor.id,
      windows: [],
      at: Date.now(),
    });
    const third = await expectEventually(async () => {
      const answer = await windowsAt(soon());
      return answer.snapshotAt !== second.snapshotAt ? answer : undefined;
    });
    expect(third.items).toEqual([]);
    expect((await windowsAt(second.snapshotAt!)).items).toEqual([{ ...editor, active: true }]);

    expect(await windowsAt(first.snapshotAt!)).toEqual({
      at: first.snapshotAt,
      snapshotAt: first.snapshotAt,
      source: 'history',
      items: [xterm, editor],
    });
    expect(await windowsAt(beforeAny)).toEqual({
      at: beforeAny.toISOString(),
      snapshotAt: null,
      source: 'history',
      items: [],
    });
    await agent.disconnect();
  });

  it('answers a bad `at`, an unknown agent, no caller and a viewer as processes?at= does', async () => {
    const agent = await startAgent();
    const viewer = admin.as(await api.createServiceToken('history-viewer', 'viewer'));
    const at = new Date().toISOString();
    const answers = async (list: 'processes' | 'windows') => {
      const codeOf = async (client: ApiClient, path: string) => {
        const reply = await client.request<{ code: string }>('GET', `/api/v1/agents/${path}`);
        return [reply.status, reply.body.code];
      };
      return [
        await codeOf(admin, `${agent.instanceUid}/${list}?at=yesterday`),
        await codeOf(admin, `${agent.instanceUid}/${list}?at=2026-11-25T10:00:00`),
        await codeOf(admin, `${randomUUID()}/${list}?at=${at}`),
        await codeOf(admin.as(undefined), `${agent.instanceUid}/${list}?at=${at}`),
        await codeOf(viewer, `${agent.instanceUid}/${list}?at=${at}`),
      ];
    };
    const expected = [
      [400, 'validation_failed'],
      [400, 'validation_failed'],
      [404, 'no_such_agent'],
      [401, 'unauthorized'],
      [200, undefined],
    ];
    expect(await answers('processes')).toEqual(expected);
    expect(await answers('windows')).toEqual(expected);
    await agent.disconnect();
  });

  it('deletes commands, audit and events after AUDIT_RETENTION_DAYS, keeping pending commands', async () => {
    const agentId = randomUUID();
    const old = new Date(Date.now() - 400 * 86_400_000);
    await db.query(
      `INSERT INTO agents (id, transport, first_seen_at, last_seen_at) VALUES ($1, 'websocket', $2, $2)`,
      [agentId, old],
    );
    for (const status of ['succeeded', 'pending']) {
      await db.query(
        `INSERT INTO commands (id, agent_id, type, actor, status, created_at, deadline_at)
         VALUES ($1, $2, 'process.signal', 'admin', $3, $4, $4)`,
        [randomUUID(), agentId, status, old],
      );
    }
    await db.query(
      `INSERT INTO audit_events (at, actor, action, target_type, agent_id, outcome)
       VALUES ($1, 'admin', 'process.kill', 'process', $2, 'succeeded')`,
      [old, agentId],
    );
    const counts = async () =>
      (
        await db.query<{ audit: string; events: string; commands: string }>(
          `SELECT (SELECT count(*) FROM audit_events WHERE agent_id = $1) AS audit,
                  (SELECT count(*) FROM events WHERE agent_id = $1) AS events,
                  (SELECT count(*) FROM commands WHERE agent_id::text = $1) AS commands`,
          [agentId],
        )
      ).rows[0];
    expect(await counts()).toEqual({ audit: '1', events: '1', commands: '2' });

    const clock: Clock = { now: () => Date.now() };
    const retention = new HistoryRetention({
      db,
      partitions: new PartitionRepository(db),
      retention: new RetentionRepository(db),
      tables: [],
      auditRetentionDays: 365,
      clock,
      logger: silentLogger,
    });
    const { deleted } = await retention.maintain();
    expect(deleted.audit_events).toBeGreaterThanOrEqual(1);
    expect(await counts()).toEqual({ audit: '0', events: '0', commands: '1' });
    // What the other tests of this file wrote is younger than a year and stays.
    expect((await eventsOf('type=process.kill')).items.length).toBeGreaterThanOrEqual(1);
  });
});

async function expectEventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
