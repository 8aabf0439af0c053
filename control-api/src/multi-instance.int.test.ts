import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlApi } from './server.js';
import { CONTROL_CAPABILITY, WINDOWS_CAPABILITY } from '@cybercorp/protocol';
import { FakeAgent, PROCESS_FIXTURE, WINDOW_FIXTURE, failed } from './test-support/fake-agent.js';
import { ApiClient } from './test-support/rest-client.js';
import { ADMIN, type TestApi } from './test-support/test-api.js';
import { startTwoInstances, type TwoInstances } from './test-support/two-instances.js';

let deployment: TwoInstances;
let first: TestApi;
let second: ControlApi;
let viaFirst: ApiClient;
let viaSecond: ApiClient;
let token: string;
const agents: FakeAgent[] = [];

beforeAll(async () => {
  deployment = await startTwoInstances({ commandTimeoutMs: 3000 });
  ({ first, second } = deployment);
  viaFirst = new ApiClient(first.url);
  await viaFirst.login(ADMIN.username, ADMIN.password);
  viaSecond = new ApiClient(second.url);
  await viaSecond.login(ADMIN.username, ADMIN.password);
  token = await first.createAgentToken('multi');
});
afterAll(async () => {
  for (const agent of agents) await agent.drop().catch(() => undefined);
  await deployment?.stop();
});

describe('several instances sharing PostgreSQL and Redis', () => {
  it('share the signing secret and the readiness of Redis', async () => {
    expect(first.instanceId).not.toBe(second.instanceId);
    // A token issued by one instance is accepted by the other.
    expect(
      (await new ApiClient(second.url, viaFirst.accessToken).request('GET', '/api/v1/me')).status,
    ).toBe(200);
    const ready = await (await fetch(`${second.url}/readyz`)).json();
    expect(ready).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
  });

  it('relays a command through the instance that holds the agent and brings the result back', async () => {
    const agent = await FakeAgent.start({ url: first.opampUrl, token, hostname: 'on-first' });
    agents.push(agent);
    const seen = await viaSecond.request('GET', `/api/v1/agents/${agent.instanceUid}`);
    expect(seen.body).toMatchObject({ hostname: 'on-first', online: true });

    const list = await viaSecond.request('GET', `/api/v1/agents/${agent.instanceUid}/processes`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: PROCESS_FIXTURE });

    const action = await viaSecond.request<{ commandId: string }>(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
      { action: 'resume', reason: 'via second' },
    );
    expect(action.status).toBe(200);
    expect(agent.commands.at(-1)).toMatchObject({ type: 'process.signal', action: 'resume' });
    const command = await viaFirst.request('GET', `/api/v1/commands/${action.body.commandId}`);
    expect(command.body).toMatchObject({ status: 'succeeded', actor: 'admin' });
  });

  it('carries agent refusals back with their code', async () => {
    const agent = await FakeAgent.start({
      url: first.opampUrl,
      token,
      respond: (c) => failed(c, 'protected_process'),
    });
    agents.push(agent);
    const reply = await viaSecond.request(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/1/actions`,
      {
        action: 'kill',
      },
    );
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('protected_process');
  });

  it('records a remote command unknown, once, when the agent drops after receiving it', async () => {
    const agent = await FakeAgent.start({ url: first.opampUrl, token, respond: () => undefined });
    agents.push(agent);
    const pending = viaSecond.request<{ code: string; commandId: string }>(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
      { action: 'kill', reason: 'relayed' },
    );
    await agent.until(() => agent.commands.length === 1);
    await agent.drop();
    const reply = await pending;
    expect(reply.status).toBe(502);
    expect(reply.body).toMatchObject({
      code: 'outcome_unknown',
      commandId: agent.commands[0]!.commandId,
    });
    // Recorded unknown at once, not as a timeout: the owner instance reported the drop over Redis.
    const command = await viaFirst.request('GET', `/api/v1/commands/${reply.body.commandId}`);
    expect(command.body).toMatchObject({ status: 'unknown', errorCode: 'outcome_unknown' });
    const audit = await viaFirst.request<{ items: Record<string, unknown>[] }>(
      'GET',
      `/api/v1/audit?agentId=${agent.instanceUid}`,
    );
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        commandId: reply.body.commandId,
        reason: 'relayed',
        outcome: 'unknown',
        errorCode: 'outcome_unknown',
      }),
    ]);
    expect(
      (await viaSecond.request('GET', `/api/v1/agents/${agent.instanceUid}`)).body.online,
    ).toBe(false);
  });

  it('records a command offline when the agent is connected to no instance', async () => {
    const agent = await FakeAgent.start({ url: first.opampUrl, token });
    agents.push(agent);
    await agent.drop();
    const reply = await viaSecond.request<{ code: string; commandId: string }>(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
      { action: 'kill' },
    );
    expect(reply.status).toBe(503);
    expect(reply.body.code).toBe('agent_offline');
    expect(agent.commands).toHaveLength(0);
    const command = await viaFirst.request('GET', `/api/v1/commands/${reply.body.commandId}`);
    expect(command.body).toMatchObject({ status: 'offline', errorCode: 'agent_offline' });
    const audit = await viaSecond.request<{ items: Record<string, unknown>[] }>(
      'GET',
      `/api/v1/audit?agentId=${agent.instanceUid}`,
    );
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        commandId: reply.body.commandId,
        outcome: 'failed',
        errorCode: 'agent_offline',
      }),
    ]);
  });

  it('shares the latest window.event through Redis', async () => {
    const agent = await FakeAgent.start({
      url: first.opampUrl,
      token,
      customCapabilities: [CONTROL_CAPABILITY, WINDOWS_CAPABILITY],
    });
    agents.push(agent);
    agent.sendWindowEvent({
      type: 'window.event',
      change: 'snapshot',
      windows: WINDOW_FIXTURE,
      at: 1_800_000_000_001,
    });
    await agent.sendAndWait();
    const cached = await viaSecond.request(
      'GET',
      `/api/v1/agents/${agent.instanceUid}/windows?cached=true`,
    );
    expect(cached.body).toEqual({ items: WINDOW_FIXTURE, source: 'event', at: 1_800_000_000_001 });
    const live = await viaSecond.request(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/windows/0x1a00003/actions`,
      {
        action: 'maximize',
      },
    );
    expect(live.status).toBe(200);
    expect(agent.commands.at(-1)).toMatchObject({ type: 'window.action', action: 'maximize' });
  });

  it('times out through Redis too', async () => {
    const agent = await FakeAgent.start({ url: first.opampUrl, token, respond: () => undefined });
    agents.push(agent);
    const reply = await viaSecond.request('GET', `/api/v1/agents/${agent.instanceUid}/processes`);
    expect(reply.status).toBe(504);
    expect(reply.body.code).toBe('agent_timeout');
  });
});
