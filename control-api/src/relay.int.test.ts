import {
  AgentCapabilities,
  CONTROL_CAPABILITY,
  ServerToAgentFlags,
  WINDOWS_CAPABILITY,
  type ControlCommand,
} from '@cybercorp/protocol';
import { createOpAMPClient } from '@elastic/opamp-client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_AGENT_CAPABILITIES,
  FakeAgent,
  PROCESS_FIXTURE,
  WINDOW_FIXTURE,
  defaultResponder,
  failed,
  ok,
  type Responder,
} from './test-support/fake-agent.js';
import type { ApiClient } from './test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

const HEARTBEAT_SECONDS = 2;
const COMMAND_TIMEOUT_MS = 2000;

let api: TestApi;
let admin: ApiClient;
let operator: ApiClient;
let token: string;
const agents: FakeAgent[] = [];

async function startAgent(
  options: {
    customCapabilities?: string[];
    respond?: Responder;
    hostname?: string;
    heartbeatMs?: number;
    capabilities?: bigint;
  } = {},
) {
  const agent = await FakeAgent.start({ url: api.opampUrl, token, ...options });
  agents.push(agent);
  return agent;
}

beforeAll(async () => {
  ({ api, admin } = await startTestApiWithAdmin({
    heartbeatSeconds: HEARTBEAT_SECONDS,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
  }));
  operator = await admin.userClient('olga', 'operator');
  token = await api.createAgentToken('relay-tests');
});
afterAll(async () => {
  for (const agent of agents) await agent.drop().catch(() => undefined);
  await api?.stop();
});

type Audit = { items: Record<string, unknown>[] };

describe('inventory and presence', () => {
  it('registers an agent from its description and shows it online', async () => {
    const agent = await startAgent({
      hostname: 'web-1',
      customCapabilities: [CONTROL_CAPABILITY],
      capabilities:
        FAKE_AGENT_CAPABILITIES |
        BigInt(AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings),
    });
    const first = agent.replies[0]!;
    expect(first.connectionSettings?.opamp?.heartbeatIntervalSeconds).toBe(
      BigInt(HEARTBEAT_SECONDS),
    );
    expect(first.flags & BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState)).toBe(0n);

    const list = await admin.request<{ items: Record<string, unknown>[] }>('GET', '/api/v1/agents');
    expect(list.body.items).toContainEqual(
      expect.objectContaining({
        id: agent.instanceUid,
        hostname: 'web-1',
        online: true,
        controllable: true,
        windowsControl: false,
        capabilities: [CONTROL_CAPABILITY],
        opampCapabilities: ['ReportsStatus', 'AcceptsOpAMPConnectionSettings', 'ReportsHeartbeat'],
      }),
    );
    const one = await admin.request('GET', `/api/v1/agents/${agent.instanceUid}`);
    expect(one.body.resourceAttributes).toMatchObject({ 'host.name': 'web-1', 'os.type': 'linux' });
  });

  it('asks an agent that sends no description for its full state', async () => {
    const agent = await FakeAgent.connect({ url: api.opampUrl, token });
    agents.push(agent);
    const reply = await agent.sendAndWait();
    expect(reply.flags & BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState)).toBe(
      BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState),
    );
    await agent.drop();
  });

  it('marks an agent offline at once when its socket closes, and after missed heartbeats', async () => {
    const closing = await startAgent({ hostname: 'closing' });
    await closing.drop();
    const afterClose = await admin.request('GET', `/api/v1/agents/${closing.instanceUid}`);
    expect(afterClose.body.online).toBe(false);

    const silent = await startAgent({ hostname: 'silent', heartbeatMs: 0 });
    expect((await admin.request('GET', `/api/v1/agents/${silent.instanceUid}`)).body.online).toBe(
      true,
    );
    // No heartbeats: after two intervals the server considers it offline and closes the socket.
    const closed = await silent.closed;
    expect(closed.code).toBe(4001);
    expect((await admin.request('GET', `/api/v1/agents/${silent.instanceUid}`)).body.online).toBe(
      false,
    );
  });

  it('handles AgentDisconnect', async () => {
    const agent = await startAgent({ hostname: 'leaving' });
    await agent.disconnect();
    expect((await admin.request('GET', `/api/v1/agents/${agent.instanceUid}`)).body.online).toBe(
      false,
    );
  });

  it('lists an agent using the Elastic OpAMP client over plain HTTP, without control', async () => {
    const instanceUid = '019a0000-0000-7000-8000-00000000e1a5';
    const client = createOpAMPClient({
      endpoint: `${api.url}/v1/opamp`,
      headers: { authorization: `Bearer ${token}` },
      instanceUid,
      heartbeatIntervalSeconds: 300,
    });
    client.setAgentDescription({
      identifyingAttributes: { 'service.name': 'elastic-client' },
      nonIdentifyingAttributes: { 'host.name': 'http-host' },
    });
    client.start();
    try {
      let agent: Record<string, unknown> | undefined;
      for (let i = 0; i < 100 && !agent?.online; i++) {
        await new Promise((r) => setTimeout(r, 100));
        agent = (await admin.request('GET', `/api/v1/agents/${instanceUid}`)).body;
      }
      expect(agent).toMatchObject({
        hostname: 'http-host',
        transport: 'http',
        online: true,
        controllable: false,
      });
      const processes = await operator.request('GET', `/api/v1/agents/${instanceUid}/processes`);
      expect(processes.status).toBe(409);
      expect(processes.body.code).toBe('capability_missing');
    } finally {
      await client.shutdown();
    }
  });
});

describe('agent list pagination', () => {
  it('pages through every agent exactly once', async () => {
    const all = await admin.request<{ items: { id: string }[]; nextCursor: string | null }>(
      'GET',
      '/api/v1/agents',
    );
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.items.length).toBeGreaterThan(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const path: string = `/api/v1/agents?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const reply = await admin.request<{ items: { id: string }[]; nextCursor: string | null }>(
        'GET',
        path,
      );
      expect(reply.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...reply.body.items.map((a) => a.id));
      cursor = reply.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(all.body.items.map((a) => a.id));
    expect((await admin.request('GET', '/api/v1/agents?cursor=nope')).status).toBe(400);
  });
});

describe('command relay', () => {
  it('relays a process list and an action, recording the command and the audit event', async () => {
    const agent = await startAgent({ hostname: 'relay-ok' });
    const list = await operator.request('GET', `/api/v1/agents/${agent.instanceUid}/processes`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: PROCESS_FIXTURE });

    const action = await operator.request<{ commandId: string; status: string }>(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
      { action: 'suspend', reason: 'runaway' },
    );
    expect(action.status).toBe(200);
    expect(action.body.status).toBe('succeeded');
    const sent = agent.commands.find((c) => c.type === 'process.signal');
    expect(sent).toMatchObject({ pid: 4242, action: 'suspend', commandId: action.body.commandId });

    const command = await operator.request('GET', `/api/v1/commands/${action.body.commandId}`);
    expect(command.body).toMatchObject({
      status: 'succeeded',
      actor: 'olga',
      type: 'process.signal',
      reason: 'runaway',
    });

    const audit = await operator.request<Audit>(
      'GET',
      `/api/v1/audit?agentId=${agent.instanceUid}`,
    );
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        actor: 'olga',
        action: 'process.suspend',
        targetType: 'process',
        targetId: '4242',
        reason: 'runaway',
        outcome: 'succeeded',
        commandId: action.body.commandId,
      }),
    ]);
  });

  it('puts an action on record as pending before the agent acts, and a read once, finished', async () => {
    const whileRunning = new Map<string, { status: number; body: Record<string, unknown> }>();
    const agent = await startAgent({
      respond: async (c: ControlCommand) => {
        const record = await operator.request('GET', `/api/v1/commands/${c.commandId}`);
        whileRunning.set(c.type, record);
        return defaultResponder(c);
      },
    });
    const action = await operator.request<{ commandId: string }>(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
      { action: 'resume' },
    );
    expect(action.status).toBe(200);
    expect(whileRunning.get('process.signal')?.body).toMatchObject({
      id: action.body.commandId,
      status: 'pending',
      finishedAt: null,
    });
    expect(
      (await operator.request('GET', `/api/v1/commands/${action.body.commandId}`)).body,
    ).toMatchObject({ status: 'succeeded', finishedAt: expect.any(String) });

    const list = await operator.request('GET', `/api/v1/agents/${agent.instanceUid}/processes`);
    expect(list.status).toBe(200);
    expect(whileRunning.get('process.list')?.status).toBe(404);
    // A list changes nothing on the agent and is polled by dashboards: it is not recorded.
    const listed = agent.commands.find((c) => c.type === 'process.list')!;
    expect(
      (await operator.request('GET', `/api/v1/commands/${listed.commandId}`)).body,
    ).toMatchObject({ code: 'no_such_command' });
  });

  it('records each of many concurrent commands once, and audits each action once', async () => {
    const agent = await startAgent({ hostname: 'relay-concurrent' });
    const actions = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        operator.request<{ commandId: string }>(
          'POST',
          `/api/v1/agents/${agent.instanceUid}/processes/${5000 + i}/actions`,
          { action: i % 2 === 0 ? 'suspend' : 'resume', reason: `batch ${i}` },
        ),
      ),
    );
    const lists = await Promise.all(
      Array.from({ length: 12 }, () =>
        operator.request('GET', `/api/v1/agents/${agent.instanceUid}/processes`),
      ),
    );
    expect([...actions, ...lists].map((r) => r.status)).toEqual(Array(24).fill(200));
    for (const [i, action] of actions.entries()) {
      const command = await operator.request('GET', `/api/v1/commands/${action.body.commandId}`);
      expect(command.body).toMatchObject({
        target: String(5000 + i),
        reason: `batch ${i}`,
        status: 'succeeded',
      });
    }
    const listed = agent.commands.filter((c) => c.type === 'process.list');
    expect(listed).toHaveLength(12);
    for (const { commandId } of listed) {
      const command = await operator.request('GET', `/api/v1/commands/${commandId}`);
      expect(command.status).toBe(404);
    }
    const audit = await operator.request<Audit>(
      'GET',
      `/api/v1/audit?agentId=${agent.instanceUid}`,
    );
    expect(audit.body.items.map((e) => e.commandId).sort()).toEqual(
      actions.map((a) => a.body.commandId).sort(),
    );
    expect(audit.body.items.map((e) => [e.targetId, e.reason, e.outcome]).sort()).toEqual(
      actions.map((_, i) => [String(5000 + i), `batch ${i}`, 'succeeded']).sort(),
    );
  });

  it('maps agent refusals through their error codes and audits them', async () => {
    const agent = await startAgent({
      respond: (c: ControlCommand) =>
        c.type === 'process.signal' && c.pid === 1
          ? failed(c, 'protected_process', 'pid 1 is protected')
          : c.type === 'process.signal'
            ? failed(c, 'no_such_process')
            : defaultResponder(c),
    });
    const protectedReply = await operator.request(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/1/actions`,
      { action: 'kill' },
    );
    expect(protectedReply.status).toBe(403);
    expect(protectedReply.body).toMatchObject({
      code: 'protected_process',
      detail: 'pid 1 is protected',
    });
    const missing = await operator.request(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/99999/actions`,
      {
        action: 'terminate',
      },
    );
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('no_such_process');

    const audit = await operator.request<Audit>(
      'GET',
      `/api/v1/audit?agentId=${agent.instanceUid}`,
    );
    expect(audit.body.items.map((e) => [e.action, e.outcome, e.errorCode])).toEqual([
      ['process.terminate', 'failed', 'no_such_process'],
      ['process.kill', 'failed', 'protected_process'],
    ]);
  });

  it("passes the caller's startedAt to the agent and answers its process_changed with 409", async () => {
    const seen: ControlCommand[] = [];
    const listedStart = '2026-03-01T08:00:00.000Z';
    const agent = await startAgent({
      respond: (c: ControlCommand) => {
        seen.push(c);
        if (c.type !== 'process.signal') return defaultResponder(c);
        return c.startedAt === undefined || c.startedAt === listedStart
          ? ok(c, { signals: ['SIGTERM'] })
          : failed(c, 'process_changed', `pid ${c.pid} was started at ${listedStart}`);
      },
    });
    const path = `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`;
    const changed = await operator.request<{ code: string; detail: string }>('POST', path, {
      action: 'terminate',
      startedAt: '2026-03-01T07:59:59.000Z',
    });
    expect(changed.status).toBe(409);
    expect(changed.body).toMatchObject({
      code: 'process_changed',
      detail: `pid 4242 was started at ${listedStart}`,
    });
    const same = await operator.request('POST', path, {
      action: 'terminate',
      startedAt: listedStart,
    });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ status: 'succeeded', result: { signals: ['SIGTERM'] } });
    expect((await operator.request('POST', path, { action: 'terminate' })).status).toBe(200);
    expect(seen.map((c) => (c.type === 'process.signal' ? (c.startedAt ?? null) : c.type))).toEqual(
      ['2026-03-01T07:59:59.000Z', listedStart, null],
    );

    const malformed = await operator.request<{ code: string }>('POST', path, {
      action: 'terminate',
      startedAt: 'yesterday',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('validation_failed');
    expect(seen).toHaveLength(3);

    const audit = await operator.request<Audit>(
      'GET',
      `/api/v1/audit?agentId=${agent.instanceUid}`,
    );
    expect(audit.body.items.map((e) => e.errorCode)).toContain('process_changed');
  });

  it('answers 504 agent_timeout when the agent stays silent, and ignores the late result', async () => {
    let late: ControlCommand | undefined;
    const agent = await startAgent({
      respond: (c) => {
        late = c;
        return undefined;
      },
    });
    const reply = await operator.request<{ code: string; commandId: string }>(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
      { action: 'terminate' },
    );
    expect(reply.status).toBe(504);
    expect(reply.body.code).toBe('agent_timeout');
    // The answer arrives after the deadline: the recorded outcome must not change.
    agent.send({
      customMessage: {
        capability: CONTROL_CAPABILITY,
        type: 'result',
        data: new TextEncoder().encode(JSON.stringify(ok(late!))),
      },
    });
    await agent.sendAndWait();
    const command = await operator.request('GET', `/api/v1/commands/${reply.body.commandId}`);
    expect(command.body).toMatchObject({ status: 'timed_out', errorCode: 'agent_timeout' });
  });

  it('answers 503 agent_offline for a known agent that is gone: the command was never sent', async () => {
    const gone = await startAgent();
    await gone.drop();
    const read = await operator.request('GET', `/api/v1/agents/${gone.instanceUid}/processes`);
    expect(read.status).toBe(503);
    expect(read.body.code).toBe('agent_offline');

    const reply = await operator.request<{ code: string; commandId: string }>(
      'POST',
      `/api/v1/agents/${gone.instanceUid}/processes/4242/actions`,
      { action: 'kill' },
    );
    expect(reply.status).toBe(503);
    expect(reply.body.code).toBe('agent_offline');
    const command = await operator.request('GET', `/api/v1/commands/${reply.body.commandId}`);
    expect(command.body).toMatchObject({ status: 'offline', errorCode: 'agent_offline' });
    const audit = await operator.request<Audit>('GET', `/api/v1/audit?agentId=${gone.instanceUid}`);
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        commandId: reply.body.commandId,
        outcome: 'failed',
        errorCode: 'agent_offline',
      }),
    ]);
  });

  it('records a command as unknown, at once, when the agent drops after receiving it', async () => {
    // Issue 10: "agent killed while a command was in flight" was recorded offline although the
    // command had been delivered. The agent gets it and its socket dies before it answers.
    const dropping = await startAgent({ respond: () => undefined });
    const pending = operator.request<{ code: string; commandId: string }>(
      'POST',
      `/api/v1/agents/${dropping.instanceUid}/processes/4242/actions`,
      { action: 'kill', reason: 'in flight' },
    );
    await dropping.until(() => dropping.commands.length === 1);
    await dropping.drop();
    const reply = await pending;
    expect(reply.status).toBe(502);
    expect(reply.contentType).toContain('application/problem+json');
    expect(reply.body).toMatchObject({
      code: 'outcome_unknown',
      commandId: dropping.commands[0]!.commandId,
    });
    const command = await operator.request('GET', `/api/v1/commands/${reply.body.commandId}`);
    expect(command.body).toMatchObject({
      status: 'unknown',
      errorCode: 'outcome_unknown',
      finishedAt: expect.any(String),
    });
    const audit = await operator.request<Audit>(
      'GET',
      `/api/v1/audit?agentId=${dropping.instanceUid}`,
    );
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        action: 'process.kill',
        reason: 'in flight',
        commandId: reply.body.commandId,
        outcome: 'unknown',
        errorCode: 'outcome_unknown',
      }),
    ]);
  });

  it('answers a read 502 outcome_unknown when the agent drops after receiving it, recording nothing', async () => {
    const closing = await startAgent({ respond: () => undefined });
    const pending = operator.request<{ code: string }>(
      'GET',
      `/api/v1/agents/${closing.instanceUid}/processes`,
    );
    await closing.until(() => closing.commands.length === 1);
    await closing.drop();
    const reply = await pending;
    expect(reply.status).toBe(502);
    expect(reply.body.code).toBe('outcome_unknown');
    const command = await operator.request(
      'GET',
      `/api/v1/commands/${closing.commands[0]!.commandId}`,
    );
    expect(command.body).toMatchObject({ code: 'no_such_command' });
  });

  it('answers 409 capability_missing without the control capability, and for windows without window control', async () => {
    const plain = await startAgent({ customCapabilities: [] });
    const processes = await operator.request(
      'GET',
      `/api/v1/agents/${plain.instanceUid}/processes`,
    );
    expect(processes.status).toBe(409);
    expect(processes.body.code).toBe('capability_missing');
    expect(plain.commands).toHaveLength(0);

    const noWindows = await startAgent({ customCapabilities: [CONTROL_CAPABILITY] });
    const windows = await operator.request(
      'GET',
      `/api/v1/agents/${noWindows.instanceUid}/windows`,
    );
    expect(windows.status).toBe(409);
    expect(windows.body.code).toBe('capability_missing');
    const action = await operator.request(
      'POST',
      `/api/v1/agents/${noWindows.instanceUid}/windows/0x1a00003/actions`,
      {
        action: 'focus',
      },
    );
    expect(action.status).toBe(409);
  });

  it('lists windows, acts on them, and serves the latest window.event', async () => {
    const agent = await startAgent({
      customCapabilities: [CONTROL_CAPABILITY, WINDOWS_CAPABILITY],
    });
    const list = await operator.request('GET', `/api/v1/agents/${agent.instanceUid}/windows`);
    expect(list.body).toEqual({ items: WINDOW_FIXTURE, source: 'agent' });

    const action = await operator.request(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/windows/0x1a00003/actions`,
      {
        action: 'minimize',
      },
    );
    expect(action.status).toBe(200);
    expect(agent.commands.at(-1)).toMatchObject({
      type: 'window.action',
      windowId: '0x1a00003',
      action: 'minimize',
    });

    const noEvent = await operator.request(
      'GET',
      `/api/v1/agents/${agent.instanceUid}/windows?cached=true`,
    );
    expect(noEvent.status).toBe(404);
    const minimized = [{ ...WINDOW_FIXTURE[0]!, minimized: true, active: false }];
    agent.sendWindowEvent({
      type: 'window.event',
      change: 'changed',
      windowId: '0x1a00003',
      windows: minimized,
      at: 1_800_000_000_000,
    });
    await agent.sendAndWait();
    const cached = await operator.request(
      'GET',
      `/api/v1/agents/${agent.instanceUid}/windows?cached=true`,
    );
    expect(cached.body).toEqual({ items: minimized, source: 'event', at: 1_800_000_000_000 });
  });

  it('exports the relay and presence metrics', async () => {
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(
      /cybercorp_commands_total\{type="process.signal",outcome="succeeded"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /cybercorp_commands_total\{type="process.signal",outcome="timed_out"\} 1/,
    );
    expect(metrics).toMatch(
      /cybercorp_command_duration_seconds_count\{type="process.list"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /cybercorp_commands_total\{type="process.signal",outcome="unknown"\} 1/,
    );
    expect(metrics).toMatch(/cybercorp_commands_total\{type="process.list",outcome="unknown"\} 1/);
    expect(metrics).toMatch(/cybercorp_opamp_connections\{transport="websocket"\} [0-9]+/);
    expect(metrics).toMatch(/cybercorp_opamp_connects_total [1-9]/);
    expect(metrics).toMatch(/cybercorp_opamp_disconnects_total\{reason="heartbeat_timeout"\} 1/);
    expect(metrics).toMatch(/cybercorp_opamp_disconnects_total\{reason="agent_disconnect"\} 1/);
    expect(metrics).toMatch(/cybercorp_agents_online [1-9]/);
    expect(metrics).toMatch(/cybercorp_agent_up\{agent_id="[0-9a-f-]{36}",host_name="web-1"\} 1/);
    expect(metrics).toMatch(/cybercorp_agent_up\{agent_id="[0-9a-f-]{36}",host_name="closing"\} 0/);
    expect(metrics).toMatch(
      /cybercorp_http_requests_total\{method="POST",route="\/api\/v1\/agents\/:agentId\/processes\/:pid\/actions",status="504"\} 1/,
    );
    for (const gauge of ['in_use', 'idle', 'max']) {
      expect(metrics).toMatch(
        new RegExp(
          `cybercorp_db_pool_connections_${gauge} \\d+|cybercorp_db_pool_${gauge}_connections \\d+`,
        ),
      );
    }
    expect(metrics).toMatch(/cybercorp_db_pool_waiting_clients \d+/);
  });
});

void AgentCapabilities;
