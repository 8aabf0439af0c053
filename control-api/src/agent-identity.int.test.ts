/**
 * Issue 10's agent identity points against the real API on embedded PostgreSQL (and, for two
 * instances, a real redis-server), with agents speaking real OpAMP over WebSocket and HTTP.
 */
import path from 'node:path';
import {
  AgentToServerSchema,
  OPAMP_HTTP_CONTENT_TYPE,
  ServerErrorResponseType,
  create,
  encodeAgentToServer,
  instanceUidFromString,
} from '@cybercorp/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWT_KEY_FILE_NAME } from './auth/signing-keys.js';
import { startControlApi, type ControlApi } from './server.js';
import { FakeAgent, PROCESS_FIXTURE, ok } from './test-support/fake-agent.js';
import { startRedisServer, type RedisServer } from './test-support/redis-server.js';
import { ApiClient, type JsonObject } from './test-support/rest-client.js';
import { ADMIN, startTestApi, type TestApi } from './test-support/test-api.js';

const CLOSE_POLICY_VIOLATION = 1008;

let redis: RedisServer;
let api: TestApi;
let second: ControlApi;
let admin: ApiClient;
let adminOnSecond: ApiClient;
const agents: FakeAgent[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  api = await startTestApi({ redisUrl: redis.url, commandTimeoutMs: 3000 });
  second = await startControlApi({
    port: 0,
    databaseUrl: api.databaseUrl,
    jwtSecretFile: path.join(api.dataDir, JWT_KEY_FILE_NAME),
    redisUrl: redis.url,
    logLevel: 'silent',
    commandTimeoutMs: 3000,
  });
  admin = new ApiClient(api.url);
  await admin.login(ADMIN.username, ADMIN.password);
  adminOnSecond = new ApiClient(second.url, admin.accessToken);
});
afterAll(async () => {
  for (const agent of agents) await agent.drop().catch(() => undefined);
  await second?.close();
  await api?.stop();
  await redis?.stop();
});

interface CreatedToken {
  id: string;
  name: string;
  maxAgents: number | '*';
  token: string;
}

async function createToken(name: string, maxAgents?: number | '*'): Promise<CreatedToken> {
  const reply = await admin.request<CreatedToken>('POST', '/api/v1/agent-tokens', {
    name,
    ...(maxAgents === undefined ? {} : { maxAgents }),
  });
  expect(reply.status).toBe(201);
  return reply.body;
}

async function startAgent(options: Parameters<typeof FakeAgent.start>[0]): Promise<FakeAgent> {
  const agent = await FakeAgent.start(options);
  agents.push(agent);
  return agent;
}

/** Connects and sends the first message, expecting the server to refuse the identity. */
async function refusedAgent(options: Parameters<typeof FakeAgent.connect>[0]) {
  const agent = await FakeAgent.connect(options);
  agents.push(agent);
  const reply = await agent.sendAndWait();
  return { reply, closed: agent.closed };
}

function pollOverHttp(baseUrl: string, token: string, instanceUid: string) {
  const message = create(AgentToServerSchema, { instanceUid: instanceUidFromString(instanceUid) });
  return fetch(`${baseUrl}/v1/opamp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': OPAMP_HTTP_CONTENT_TYPE },
    body: Buffer.from(encodeAgentToServer(message)),
  });
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const auditOf = async (action: string) =>
  (await admin.request<{ items: JsonObject[] }>('GET', `/api/v1/audit?action=${action}`)).body
    .items;

describe('an instance uid belongs to the agent token that registered it', () => {
  it('refuses an impostor token on the WebSocket and leaves the connected agent alone', async () => {
    const real = await startAgent({ url: api.opampUrl, token: (await createToken('real')).token });
    const impostorToken = (await createToken('impostor')).token;
    const conflictsBefore = await metric(
      'cybercorp_opamp_identity_conflicts_total',
      'reason="uid_claimed"',
    );

    const { reply, closed } = await refusedAgent({
      url: api.opampUrl,
      token: impostorToken,
      instanceUid: real.instanceUid,
      respond: (command) => ok(command, [{ pid: 666, name: 'impostor' }]),
    });
    expect(reply.errorResponse).toMatchObject({
      type: ServerErrorResponseType.ServerErrorResponseType_BadRequest,
      errorMessage: expect.stringContaining('agent_identity_conflict') as unknown,
    });
    expect((await closed).code).toBe(CLOSE_POLICY_VIOLATION);

    // The same impostor over plain HTTP: 409 before any OpAMP handling.
    const polled = await pollOverHttp(api.url, impostorToken, real.instanceUid);
    expect(polled.status).toBe(409);
    expect(polled.headers.get('content-type')).toContain('application/problem+json');
    expect(await polled.json()).toMatchObject({ code: 'agent_identity_conflict' });

    expect(await metric('cybercorp_opamp_identity_conflicts_total', 'reason="uid_claimed"')).toBe(
      conflictsBefore + 2,
    );
    // The real agent was neither closed nor replaced, and answers the next command itself.
    const list = await admin.request('GET', `/api/v1/agents/${real.instanceUid}/processes`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: PROCESS_FIXTURE });
    expect(real.commands).toHaveLength(1);
    expect(await Promise.race([real.closed, Promise.resolve('open')])).toBe('open');
    expect((await admin.request('GET', `/api/v1/agents/${real.instanceUid}`)).body).toMatchObject({
      online: true,
      hostname: 'fake-host',
    });
  });

  it('keeps the uid with its token across reconnects, and for another token while offline', async () => {
    const token = await createToken('reconnecting');
    const first = await startAgent({ url: api.opampUrl, token: token.token });
    await first.drop();
    const again = await startAgent({
      url: api.opampUrl,
      token: token.token,
      instanceUid: first.instanceUid,
    });
    expect(again.replies[0]?.errorResponse).toBeUndefined();
    await again.drop();

    const { reply } = await refusedAgent({
      url: api.opampUrl,
      token: (await createToken('other')).token,
      instanceUid: first.instanceUid,
    });
    expect(reply.errorResponse?.errorMessage).toContain('agent_identity_conflict');
  });
});

describe('the agent cap of a token', () => {
  it('is 1 by default: a second uid is refused, counted, and the first agent keeps working', async () => {
    const token = await createToken('single');
    expect(token.maxAgents).toBe(1);
    const registered = await startAgent({ url: api.opampUrl, token: token.token });
    const before = await metric('cybercorp_opamp_identity_conflicts_total', 'reason="agent_limit"');

    const { reply, closed } = await refusedAgent({ url: api.opampUrl, token: token.token });
    expect(reply.errorResponse?.errorMessage).toContain('agent_limit_reached');
    expect((await closed).code).toBe(CLOSE_POLICY_VIOLATION);
    const polled = await pollOverHttp(api.url, token.token, '0a0a0a0a-0000-4000-8000-000000000001');
    expect(polled.status).toBe(409);
    expect(await polled.json()).toMatchObject({ code: 'agent_limit_reached' });

    expect(await metric('cybercorp_opamp_identity_conflicts_total', 'reason="agent_limit"')).toBe(
      before + 2,
    );
    expect(
      (await admin.request('GET', `/api/v1/agents/${registered.instanceUid}/processes`)).status,
    ).toBe(200);
  });

  it('cannot be passed by registering in parallel', async () => {
    const token = await createToken('parallel', 3);
    const attempts = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const agent = await FakeAgent.connect({ url: api.opampUrl, token: token.token });
        agents.push(agent);
        return (await agent.sendAndWait()).errorResponse === undefined;
      }),
    );
    expect(attempts.filter(Boolean)).toHaveLength(3);
    const listed = await admin.request<{ items: JsonObject[] }>('GET', '/api/v1/agent-tokens');
    expect(listed.body.items.find((t) => t.id === token.id)).toMatchObject({ agentCount: 3 });
  });

  it('is absent for a fleet token created with "*"', async () => {
    const token = await createToken('fleet', '*');
    expect(token.maxAgents).toBe('*');
    for (let i = 0; i < 4; i++) await startAgent({ url: api.opampUrl, token: token.token });
  });

  it('refuses a cap that is neither a positive integer nor "*"', async () => {
    for (const maxAgents of [0, -1, 1.5, 'all', '2', null]) {
      const reply = await admin.request('POST', '/api/v1/agent-tokens', { name: 'x', maxAgents });
      expect(reply.status, JSON.stringify(maxAgents)).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
    }
  });
});

describe('listing agent tokens', () => {
  it('shows each active token with its agents and last use, never its secret', async () => {
    const token = await createToken('listed', 2);
    const agent = await startAgent({ url: api.opampUrl, token: token.token });
    const reply = await admin.request<{ items: JsonObject[] }>('GET', '/api/v1/agent-tokens');
    expect(reply.status).toBe(200);
    const listed = reply.body.items.find((t) => t.id === token.id);
    expect(listed).toEqual({
      id: token.id,
      name: 'listed',
      createdBy: ADMIN.username,
      createdAt: expect.any(String) as unknown,
      lastUsedAt: expect.any(String) as unknown,
      maxAgents: 2,
      agentCount: 1,
      agentIds: [agent.instanceUid],
    });
    const text = JSON.stringify(reply.body);
    expect(text).not.toContain(token.token);
    expect(text).not.toMatch(/cca_|hash/i);
  });

  it('is for admins only', async () => {
    const operator = await admin.userClient('otto', 'operator');
    expect((await operator.request('GET', '/api/v1/agent-tokens')).status).toBe(403);
    expect(
      (
        await operator.request(
          'DELETE',
          '/api/v1/agent-tokens/6f1c2b1e-0a51-4f0e-9a43-1d2f3c4b5a69',
        )
      ).status,
    ).toBe(403);
    expect(
      (await operator.request('DELETE', '/api/v1/agents/6f1c2b1e-0a51-4f0e-9a43-1d2f3c4b5a69'))
        .status,
    ).toBe(403);
  });
});

describe('revoking an agent token', () => {
  it("closes its agent's session within a second and refuses the reconnect", async () => {
    const token = await createToken('revoked');
    const agent = await startAgent({ url: api.opampUrl, token: token.token });
    const started = performance.now();
    const reply = await admin.request('DELETE', `/api/v1/agent-tokens/${token.id}`);
    expect(reply.status).toBe(204);
    const closed = await agent.closed;
    const delayMs = performance.now() - started;
    expect(closed.code).toBe(CLOSE_POLICY_VIOLATION);
    expect(delayMs).toBeLessThan(1000);

    await expect(
      FakeAgent.connect({ url: api.opampUrl, token: token.token, instanceUid: agent.instanceUid }),
    ).rejects.toMatchObject({ status: 401 });
    expect((await pollOverHttp(api.url, token.token, agent.instanceUid)).status).toBe(401);
    expect((await admin.request('GET', `/api/v1/agents/${agent.instanceUid}`)).body.online).toBe(
      false,
    );
    expect((await admin.request('DELETE', `/api/v1/agent-tokens/${token.id}`)).status).toBe(404);
    const listed = await admin.request<{ items: JsonObject[] }>('GET', '/api/v1/agent-tokens');
    expect(listed.body.items.map((t) => t.id)).not.toContain(token.id);
    expect(await auditOf('agent_token.revoke')).toContainEqual(
      expect.objectContaining({ actor: ADMIN.username, targetId: token.id, outcome: 'succeeded' }),
    );
  });

  it('closes the session another instance holds, through Redis, within a second', async () => {
    const token = await createToken('held-elsewhere');
    const agent = await startAgent({ url: second.opampUrl, token: token.token });
    const started = performance.now();
    expect((await admin.request('DELETE', `/api/v1/agent-tokens/${token.id}`)).status).toBe(204);
    const closed = await agent.closed;
    const delayMs = performance.now() - started;
    expect(closed.code).toBe(CLOSE_POLICY_VIOLATION);
    expect(delayMs).toBeLessThan(1000);
    await expect(
      FakeAgent.connect({ url: second.opampUrl, token: token.token }),
    ).rejects.toMatchObject({ status: 401 });
    expect(
      (await adminOnSecond.request('GET', `/api/v1/agents/${agent.instanceUid}`)).body.online,
    ).toBe(false);
  });

  it('leaves the sessions of other tokens open', async () => {
    const kept = await startAgent({ url: api.opampUrl, token: (await createToken('kept')).token });
    const token = await createToken('dropped');
    const dropped = await startAgent({ url: api.opampUrl, token: token.token });
    await admin.request('DELETE', `/api/v1/agent-tokens/${token.id}`);
    await dropped.closed;
    expect(await Promise.race([kept.closed, Promise.resolve('open')])).toBe('open');
    expect(
      (await admin.request('GET', `/api/v1/agents/${kept.instanceUid}/processes`)).status,
    ).toBe(200);
  });

  it('answers 404 for an unknown token and 400 for an id that is no uuid', async () => {
    expect(
      (await admin.request('DELETE', '/api/v1/agent-tokens/6f1c2b1e-0a51-4f0e-9a43-1d2f3c4b5a69'))
        .status,
    ).toBe(404);
    expect((await admin.request('DELETE', '/api/v1/agent-tokens/nope')).status).toBe(400);
  });
});

describe('decommissioning an agent', () => {
  it('refuses an online agent, removes an offline one, and frees its uid and cap', async () => {
    const token = await createToken('decommissioned');
    const agent = await startAgent({ url: api.opampUrl, token: token.token });
    const online = await admin.request('DELETE', `/api/v1/agents/${agent.instanceUid}`);
    expect(online.status).toBe(409);
    expect(online.body.code).toBe('agent_online');

    await agent.drop();
    expect((await admin.request('DELETE', `/api/v1/agents/${agent.instanceUid}`)).status).toBe(204);
    expect((await admin.request('GET', `/api/v1/agents/${agent.instanceUid}`)).status).toBe(404);
    const fleet = await admin.request<{ items: JsonObject[] }>('GET', '/api/v1/agents?limit=1000');
    expect(fleet.body.items.map((a) => a.id)).not.toContain(agent.instanceUid);
    expect((await admin.request('DELETE', `/api/v1/agents/${agent.instanceUid}`)).status).toBe(404);
    expect(await auditOf('agent.decommission')).toContainEqual(
      expect.objectContaining({
        actor: ADMIN.username,
        targetId: agent.instanceUid,
        agentId: agent.instanceUid,
        outcome: 'succeeded',
      }),
    );

    // The token's one place is free: another uid registers with it ...
    const next = await startAgent({ url: api.opampUrl, token: token.token });
    expect(next.replies[0]?.errorResponse).toBeUndefined();
    await next.drop();
    await admin.request('DELETE', `/api/v1/agents/${next.instanceUid}`);
    // ... and the uid itself may now be registered by another token, with its description.
    const adopted = await startAgent({
      url: api.opampUrl,
      token: (await createToken('adopting')).token,
      instanceUid: agent.instanceUid,
      hostname: 'new-home',
    });
    expect(adopted.replies[0]?.errorResponse).toBeUndefined();
    expect((await admin.request('GET', `/api/v1/agents/${agent.instanceUid}`)).body).toMatchObject({
      online: true,
      hostname: 'new-home',
    });
  });
});
