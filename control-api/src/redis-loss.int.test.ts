import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlApi } from './server.js';
import { FakeAgent } from './test-support/fake-agent.js';
import { ApiClient } from './test-support/rest-client.js';
import { ADMIN, type TestApi } from './test-support/test-api.js';
import { startTwoInstances, type TwoInstances } from './test-support/two-instances.js';

/**
 * One instance loses Redis (the test stops the redis-server it spawned, by its pid, and starts
 * it again on the same port, empty): it says so on /readyz, refuses what needs Redis with a quick
 * 503 and a stable code, keeps serving its own agents, and recovers when Redis is back.
 */

// Long heartbeats: after Redis comes back, presence must be written again at once, not by the
// agents' next heartbeat.
const HEARTBEAT_SECONDS = 30;
const COMMAND_TIMEOUT_MS = 5000;
/** A guard against hangs, far above what any of these answers should take. */
const HANG_GUARD_MS = 8000;

let deployment: TwoInstances;
let first: TestApi;
let second: ControlApi;
let viaFirst: ApiClient;
let token: string;
const agents: FakeAgent[] = [];

async function agentOn(
  api: ControlApi,
  options: Partial<Parameters<typeof FakeAgent.start>[0]> = {},
) {
  const agent = await FakeAgent.start({ url: api.opampUrl, token, heartbeatMs: 0, ...options });
  agents.push(agent);
  return agent;
}

const kill = (client: ApiClient, agentId: string, reason: string) =>
  client.request<{ code?: string; commandId: string; status?: string }>(
    'POST',
    `/api/v1/agents/${agentId}/processes/4242/actions`,
    { action: 'kill', reason },
  );

async function readiness(api: ControlApi) {
  const started = performance.now();
  const response = await fetch(`${api.url}/readyz`, { signal: AbortSignal.timeout(HANG_GUARD_MS) });
  const body = (await response.json()) as { checks?: Record<string, string>; code?: string };
  return { status: response.status, body, ms: Math.round(performance.now() - started) };
}

async function auditOf(agentId: string) {
  const reply = await viaFirst.request<{ items: Record<string, unknown>[] }>(
    'GET',
    `/api/v1/audit?agentId=${agentId}`,
  );
  return reply.body.items;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - started;
}

beforeAll(async () => {
  deployment = await startTwoInstances({
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    heartbeatSeconds: HEARTBEAT_SECONDS,
  });
  ({ first, second } = deployment);
  viaFirst = new ApiClient(first.url);
  await viaFirst.login(ADMIN.username, ADMIN.password);
  token = await first.createAgentToken('redis-loss');
});
afterAll(async () => {
  for (const agent of agents) await agent.drop().catch(() => undefined);
  await deployment?.stop();
});

describe('an instance that loses Redis', () => {
  it('says so on /readyz, refuses relayed commands with relay_unavailable, keeps its own agents, and recovers', async () => {
    const here = await agentOn(first, { hostname: 'on-first' });
    const there = await agentOn(second, { hostname: 'on-second' });
    expect((await kill(viaFirst, there.instanceUid, 'relayed, Redis up')).status).toBe(200);

    const redisPid = deployment.redis.pid;
    expect(redisPid).toBeGreaterThan(0);
    await deployment.redis.stop();

    // /readyz names Redis, quickly: the check does not wait in ioredis' reconnection queue.
    const ready = await readiness(first);
    console.log(`/readyz without Redis answered ${ready.status} in ${ready.ms} ms`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      code: 'service_unavailable',
      checks: { database: 'ok', redis: 'unavailable' },
    });

    // A command for the agent held by the other instance: refused, never sent, recorded once.
    const started = performance.now();
    const refused = await kill(viaFirst, there.instanceUid, 'relayed, Redis down');
    console.log(
      `relayed command without Redis refused in ${Math.round(performance.now() - started)} ms`,
    );
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body.code).toBe('relay_unavailable');
    expect(there.commands).toHaveLength(1); // only the one sent while Redis was up
    const recorded = await viaFirst.request('GET', `/api/v1/commands/${refused.body.commandId}`);
    expect(recorded.body).toMatchObject({ status: 'offline', errorCode: 'relay_unavailable' });
    expect(
      (await auditOf(there.instanceUid)).filter((e) => e.commandId === refused.body.commandId),
    ).toEqual([expect.objectContaining({ outcome: 'failed', errorCode: 'relay_unavailable' })]);

    // Its own agent still takes commands; neither agent was disconnected.
    const local = await kill(viaFirst, here.instanceUid, 'local, Redis down');
    expect(local.status).toBe(200);
    expect(here.commands.at(-1)).toMatchObject({ commandId: local.body.commandId });
    // A message from the agent (its presence cannot be shared) keeps its connection.
    await here.sendAndWait();
    expect(here.isOpen && there.isOpen).toBe(true);
    const again = await kill(viaFirst, here.instanceUid, 'local again');
    expect(again.status).toBe(200);
    // An agent connecting meanwhile is taken in, and served, too.
    const newcomer = await agentOn(first, { hostname: 'arrived-without-redis' });
    expect((await kill(viaFirst, newcomer.instanceUid, 'newcomer')).status).toBe(200);

    // What needs the shared presence says why instead of guessing.
    const list = await viaFirst.request('GET', '/api/v1/agents');
    expect(list.status).toBe(503);
    expect(list.body.code).toBe('redis_unavailable');

    // Logins and token checks go on (limits counted in memory meanwhile).
    const login = new ApiClient(first.url);
    await login.login(ADMIN.username, ADMIN.password);
    expect((await login.request('GET', '/api/v1/me')).status).toBe(200);

    // Redis back (empty): readiness, presence and relaying come back without restarting anything.
    await deployment.redis.restart();
    const readyAfterMs = await until(
      async () =>
        (await readiness(first)).status === 200 && (await readiness(second)).status === 200,
      'both instances ready again',
    );
    console.log(`both instances ready ${readyAfterMs} ms after redis-server restarted`);
    const relayedAfterMs = await until(
      async () =>
        (await viaFirst.request('GET', `/api/v1/agents/${there.instanceUid}`)).body.online === true,
      'the agent on the second instance online again, seen from the first',
    );
    console.log(`presence of the other instance's agent back ${relayedAfterMs} ms after readiness`);
    const relayed = await kill(viaFirst, there.instanceUid, 'relayed, Redis back');
    expect(relayed.body).toMatchObject({ status: 'succeeded' });
    expect(there.commands.at(-1)).toMatchObject({ commandId: relayed.body.commandId });
    expect(here.isOpen && there.isOpen).toBe(true);
  });

  it('ends a relayed command in flight unknown, once, when Redis goes away before the answer', async () => {
    const silent = await agentOn(second, { respond: () => undefined });
    const pending = kill(viaFirst, silent.instanceUid, 'in flight when Redis stops');
    await silent.until(() => silent.commands.length === 1);
    await deployment.redis.stop();
    const reply = await pending;
    expect(reply.status).toBe(502);
    expect(reply.body).toMatchObject({
      code: 'outcome_unknown',
      commandId: silent.commands[0]!.commandId,
    });
    await deployment.redis.restart();
    await until(async () => (await readiness(first)).status === 200, 'first ready again');
    const recorded = await viaFirst.request('GET', `/api/v1/commands/${reply.body.commandId}`);
    expect(recorded.body).toMatchObject({ status: 'unknown', errorCode: 'outcome_unknown' });
    expect(await auditOf(silent.instanceUid)).toEqual([
      expect.objectContaining({ commandId: reply.body.commandId, outcome: 'unknown' }),
    ]);
  });

  it('treats a frozen Redis (SIGSTOP to its pid) the same way, after the Redis command timeout', async () => {
    const here = await agentOn(first, { hostname: 'frozen-redis-here' });
    const there = await agentOn(second, { hostname: 'frozen-redis-there' });
    const pid = deployment.redis.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const ready = await readiness(first);
      console.log(`/readyz with Redis frozen answered ${ready.status} in ${ready.ms} ms`);
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toMatchObject({ redis: 'unavailable' });
      const started = performance.now();
      const refused = await kill(viaFirst, there.instanceUid, 'relayed, Redis frozen');
      console.log(
        `relayed command with Redis frozen refused in ${Math.round(performance.now() - started)} ms`,
      );
      // Not a timeout of the agent (COMMAND_TIMEOUT_MS): the relay could not even look it up.
      expect(refused.body.code).toBe('relay_unavailable');
      expect(await kill(viaFirst, here.instanceUid, 'local, Redis frozen')).toMatchObject({
        status: 200,
      });
      // By now the watchdog has dropped the frozen connection: refusals no longer wait.
      const again = performance.now();
      expect((await kill(viaFirst, there.instanceUid, 'relayed again')).body.code).toBe(
        'relay_unavailable',
      );
      console.log(
        `next relayed command refused in ${Math.round(performance.now() - again)} ms (connection dropped)`,
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until(
      async () =>
        (await readiness(first)).status === 200 && (await readiness(second)).status === 200,
      'both instances ready again',
    );
    expect(await kill(viaFirst, there.instanceUid, 'relayed, Redis thawed')).toMatchObject({
      status: 200,
    });
  });

  it('ends access tokens on the other instance through the database while Redis is away', async () => {
    const user = await viaFirst.userClient('vera', 'viewer');
    const onSecond = new ApiClient(second.url, user.accessToken);
    expect((await onSecond.request('GET', '/api/v1/me')).status).toBe(200);
    await deployment.redis.stop();
    try {
      expect(
        (await viaFirst.request('PATCH', '/api/v1/users/vera', { disabled: true })).status,
      ).toBe(200);
      // Refused here at once; the other instance cannot hear it over Redis, and re-reads the user
      // from the database within seconds (token-validity.ts).
      expect(
        (await new ApiClient(first.url, user.accessToken).request('GET', '/api/v1/me')).status,
      ).toBe(401);
      const refusedAfterMs = await until(
        async () => (await onSecond.request('GET', '/api/v1/me')).status === 401,
        "the other instance to refuse the disabled user's token",
        30_000,
      );
      console.log(
        `other instance refused the token ${refusedAfterMs} ms after the change, without Redis`,
      );
    } finally {
      await deployment.redis.restart();
    }
  });

  it('keeps the login limiter while Redis is away: counted in memory, still refusing', async () => {
    await deployment.redis.stop();
    try {
      const guesser = new ApiClient(first.url);
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const reply = await guesser.request('POST', '/api/v1/auth/login', {
          username: 'nobody-here',
          password: `wrong-${i}`,
        });
        statuses.push(reply.status);
      }
      // Five wrong passwords are checked, then the pair is locked out (DEFAULT_LOGIN_LIMITS).
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    } finally {
      await deployment.redis.restart();
    }
  });
});
