/**
 * Issue 2's "must hold" points against the real thing: the control API binary on embedded
 * PostgreSQL, the agent binary on this host's real /proc, and processes this test spawns.
 * Only pids the test spawned are ever signalled; pid 1 and the agent's own pid are only asked
 * for, and the test checks that the agent refused and nothing happened to them.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpAMPClient } from '@elastic/opamp-client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  procState,
  startAgent,
  startControlApi,
  waitForAgent,
  type RunningAgent,
  type RunningControlApi,
} from './support/control-stack.js';
import type { ApiClient } from '../control-api/src/test-support/rest-client.js';
import { exitOf, spawnSleeper, waitFor } from './support/processes.js';
import { receiveQueueBytes } from './support/sockets.js';

const admin = { username: 'admin', password: 'e2e-admin-password-1' };
const read = (path: string) => readFileSync(path, 'utf8');

describe('control spine: real control API, real agent, real processes', () => {
  let workDir: string;
  let api: RunningControlApi;
  let agent: RunningAgent;
  let client: ApiClient;
  let adminToken: string;
  let agentToken: string;
  let agentId: string;
  const spawned: ChildProcess[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'cybercorp-e2e-'));
    api = await startControlApi({ workDir, admin });
    client = api.client;
    adminToken = (await client.login(admin.username, admin.password)).accessToken;
    const created = await client
      .as(adminToken)
      // The local agent and the third-party OpAMP client below share it.
      .request<{ token: string }>('POST', '/api/v1/agent-tokens', {
        name: 'e2e-local',
        maxAgents: 2,
      });
    expect(created.status).toBe(201);
    agentToken = created.body.token;
    agent = startAgent({ controlUrl: `ws://127.0.0.1:${api.port}/v1/opamp`, token: agentToken });
    agentId = (await waitForAgent(client, adminToken, () => true, { process: agent.process })).id;
  });

  afterAll(async () => {
    for (const child of spawned)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await agent?.stop();
    await api?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const act = (
    pid: number | string,
    action: string,
    token = adminToken,
    reason = 'e2e test',
    startedAt?: string,
  ) =>
    client
      .as(token)
      .request<Record<string, any>>('POST', `/api/v1/agents/${agentId}/processes/${pid}/actions`, {
        action,
        reason,
        ...(startedAt === undefined ? {} : { startedAt }),
      });

  /** The first row of the agent's process list that `match` picks, once one shows. */
  const rowOf = (match: (row: any) => boolean, what: string) =>
    waitFor(what, async () => {
      const response = await client
        .as(adminToken)
        .request<{ items: any[] }>('GET', `/api/v1/agents/${agentId}/processes`);
      expect(response.status).toBe(200);
      return response.body.items.find(match);
    });
  const listed = (pid: number) => rowOf((p) => p.pid === pid, `pid ${pid} in the process list`);

  it('announces the host with its OTel resource attributes and the control capability', async () => {
    const response = await client.as(adminToken).request('GET', `/api/v1/agents/${agentId}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: agentId, online: true });
    expect(JSON.stringify(response.body)).toContain('io.cybercorp.control.v1');
    expect(JSON.stringify(response.body)).toContain('host.name');
  });

  it('lists, suspends, resumes and terminates a process the test spawned; then 404 for it', async () => {
    const sleeper = spawnSleeper();
    spawned.push(sleeper);
    const exit = exitOf(sleeper);

    const listed = await waitFor('the spawned sleep in the process list', async () => {
      const response = await client
        .as(adminToken)
        .request('GET', `/api/v1/agents/${agentId}/processes`);
      expect(response.status).toBe(200);
      return (response.body.items as any[]).find((p) => p.pid === sleeper.pid);
    });
    expect(listed).toMatchObject({ pid: sleeper.pid, ppid: process.pid, name: 'sleep' });
    expect(listed.command).toContain('sleep 300');

    const suspended = await act(sleeper.pid, 'suspend');
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({
      status: expect.any(String),
      commandId: expect.any(String),
    });
    expect(procState(sleeper.pid, read)).toBe('T');

    expect((await act(sleeper.pid, 'resume')).status).toBe(200);
    expect(procState(sleeper.pid, read)).toBe('S');

    expect((await act(sleeper.pid, 'terminate')).status).toBe(200);
    expect(await exit).toEqual({ code: null, signal: 'SIGTERM' });

    const gone = await act(sleeper.pid, 'kill');
    expect(gone.status).toBe(404);
    expect(gone.contentType).toContain('application/problem+json');
    expect(gone.body.code).toBe('no_such_process');

    const command = await client
      .as(adminToken)
      .request('GET', `/api/v1/commands/${suspended.body.commandId}`);
    expect(command.status).toBe(200);
    expect(JSON.stringify(command.body)).toContain('suspend');
  });

  it('refuses pid 1 and the agent itself as protected_process, and signals nothing', async () => {
    const initStateBefore = procState(1, read);
    for (const pid of [1, agent.process.pid]) {
      const refused = await act(pid, 'suspend');
      expect(refused.status).toBe(403);
      expect(refused.contentType).toContain('application/problem+json');
      expect(refused.body.code).toBe('protected_process');
    }
    expect(procState(1, read)).toBe(initStateBefore);
    expect(procState(agent.process.pid, read)).not.toBe('T');
    agent.process.assertRunning();
  });

  it('suspend then terminate: the stopped process gets SIGCONT after SIGTERM and exits', async () => {
    const sleeper = spawnSleeper();
    spawned.push(sleeper);
    const exit = exitOf(sleeper);
    await listed(sleeper.pid);

    const suspended = await act(sleeper.pid, 'suspend');
    expect(suspended.status).toBe(200);
    expect(suspended.body.result).toEqual({ signals: ['SIGSTOP'], state: 'stopped' });
    expect(procState(sleeper.pid, read)).toBe('T');

    const terminated = await act(sleeper.pid, 'terminate');
    expect(terminated.status).toBe(200);
    expect(terminated.body.result).toEqual({ signals: ['SIGTERM', 'SIGCONT'] });
    expect(await exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('answers a stale startedAt with 409 process_changed and leaves the process untouched', async () => {
    const sleeper = spawnSleeper();
    spawned.push(sleeper);
    const row = await listed(sleeper.pid);
    expect(row.startedAt).toEqual(expect.any(String));
    // What a list taken before this pid was reused would have shown: an earlier start.
    const stale = new Date(Date.parse(row.startedAt) - 60_000).toISOString();
    const stateBefore = procState(sleeper.pid, read);

    const refused = await act(sleeper.pid, 'kill', adminToken, 'e2e test', stale);
    expect(refused.status).toBe(409);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body.code).toBe('process_changed');
    expect(procState(sleeper.pid, read)).toBe(stateBefore);
    expect(sleeper.exitCode).toBeNull();
    expect(sleeper.signalCode).toBeNull();

    // The start time the list gave names this very process: the action goes through.
    const exit = exitOf(sleeper);
    expect((await act(sleeper.pid, 'kill', adminToken, 'e2e test', row.startedAt)).status).toBe(
      200,
    );
    expect(await exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('refuses the control API and its embedded PostgreSQL on the same host as protected_process', async () => {
    const database = await rowOf(
      (p) => p.ppid === api.process.pid && p.name === 'postgres',
      "the API's embedded PostgreSQL in the process list",
    );
    const targets = [api.process.pid, database.pid as number];
    try {
      for (const pid of targets) {
        const refused = await act(pid, 'suspend');
        expect(refused.status, `pid ${pid}`).toBe(403);
        expect(refused.body.code).toBe('protected_process');
        expect(refused.body.detail).toMatch(/control-plane\.(api|database)/);
      }
      // Running or sleeping, whichever they happen to be doing: never stopped by the refused suspend.
      for (const pid of targets) expect(procState(pid, read), `pid ${pid}`).toMatch(/^[RSD]$/);
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    } finally {
      // Only if the policy failed: let the API's own processes run again before anything else.
      for (const pid of targets) if (procState(pid, read) === 'T') process.kill(pid, 'SIGCONT');
    }
  });

  it('gives a viewer 403 for actions and for user administration', async () => {
    const created = await client.as(adminToken).request('POST', '/api/v1/users', {
      username: 'vera',
      password: 'viewer-password-1',
      role: 'viewer',
    });
    expect(created.status).toBe(201);
    const viewer = (await client.login('vera', 'viewer-password-1')).accessToken;

    const sleeper = spawnSleeper();
    spawned.push(sleeper);
    const refused = await act(sleeper.pid, 'kill', viewer);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
    expect(procState(sleeper.pid, read)).toMatch(/[SR]/);

    const userAdmin = await client.as(viewer).request('POST', '/api/v1/users', {
      username: 'mallory',
      password: 'mallory-password-1',
      role: 'admin',
    });
    expect(userAdmin.status).toBe(403);
    expect((await client.as(viewer).request('GET', '/api/v1/agents')).status).toBe(200);
    sleeper.kill('SIGKILL');
  });

  it('answers 401 without a token, with a forged token and with alg:none', async () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'admin', role: 'admin', iat: now, exp: now + 600 };
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    const forged = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.${Buffer.from('not-the-key').toString('base64url')}`;
    for (const token of [undefined, unsigned, forged, 'garbage']) {
      const response = await client.as(token).request('GET', '/api/v1/agents');
      expect(response.status).toBe(401);
      expect(response.body.code).toEqual(expect.any(String));
    }
  });

  it('rotates refresh tokens and revokes the family when one is reused', async () => {
    const first = await client.login(admin.username, admin.password);
    const rotated = await client.request('POST', '/api/v1/auth/refresh', {
      refreshToken: first.refreshToken,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(first.refreshToken);
    const reused = await client.request('POST', '/api/v1/auth/refresh', {
      refreshToken: first.refreshToken,
    });
    expect(reused.status).toBe(401);
    // The reuse revoked the whole family, including the token handed out by the rotation.
    const afterRevocation = await client.request('POST', '/api/v1/auth/refresh', {
      refreshToken: rotated.body.refreshToken,
    });
    expect(afterRevocation.status).toBe(401);
  });

  it('never lets an agent token call user routes, nor a user token open an agent channel', async () => {
    expect((await client.as(agentToken).request('GET', '/api/v1/agents')).status).toBe(401);
    const upgrade = await fetch(`${api.url}/v1/opamp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([]),
    });
    expect(upgrade.status).toBe(401);
  });

  it('lists a third-party OpAMP client (Elastic, HTTP transport) and answers 409 capability_missing to actions on it', async () => {
    const instanceUid = '0192f6e4-7b1c-7cc0-8a3e-000000e1a571';
    const elastic = createOpAMPClient({
      endpoint: `${api.url}/v1/opamp`,
      headers: { authorization: `Bearer ${agentToken}` },
      instanceUid,
      heartbeatIntervalSeconds: 1,
    });
    elastic.setAgentDescription({
      identifyingAttributes: { 'service.name': 'elastic-interop', 'host.name': 'interop-host' },
      nonIdentifyingAttributes: { 'os.type': 'linux' },
    });
    elastic.start();
    try {
      const listed = await waitForAgent(client, adminToken, (a) => a.id === instanceUid);
      expect(listed.hostname).toBe('interop-host');
      const refused = await client
        .as(adminToken)
        .request('POST', `/api/v1/agents/${instanceUid}/processes/${process.pid}/actions`, {
          action: 'suspend',
        });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('capability_missing');
      expect(procState(process.pid, read)).not.toBe('T');
    } finally {
      await elastic.shutdown();
    }
  });

  it('answers bad input with 4xx problem+json and a code, never 5xx', async () => {
    const cases: Array<
      [string, Promise<{ status: number; contentType: string; body: any }>, number]
    > = [
      [
        'malformed JSON',
        client
          .as(adminToken)
          .request('POST', `/api/v1/agents/${agentId}/processes/123/actions`, '{"action":'),
        400,
      ],
      ['unknown action', act(123, 'explode'), 400],
      ['non-numeric pid', act('abc', 'kill'), 400],
      [
        'unknown agent',
        client
          .as(adminToken)
          .request(
            'POST',
            '/api/v1/agents/00000000-0000-7000-8000-000000000000/processes/123/actions',
            { action: 'kill' },
          ),
        404,
      ],
      [
        '2 MB body',
        client
          .as(adminToken)
          .request(
            'POST',
            `/api/v1/agents/${agentId}/processes/123/actions`,
            JSON.stringify({ action: 'kill', reason: 'x'.repeat(2 * 1024 * 1024) }),
          ),
        413,
      ],
    ];
    for (const [what, pending, status] of cases) {
      const response = await pending;
      expect(response.status, what).toBe(status);
      expect(response.contentType, what).toContain('application/problem+json');
      expect(response.body.code, what).toEqual(expect.any(String));
    }
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it('records every action above in the audit log with actor and outcome', async () => {
    const response = await client
      .as(adminToken)
      .request('GET', `/api/v1/audit?agentId=${agentId}&limit=100`);
    expect(response.status).toBe(200);
    const events = response.body.items as any[];
    const text = JSON.stringify(events);
    for (const action of ['suspend', 'resume', 'terminate', 'kill']) expect(text).toContain(action);
    expect(text).toContain('protected_process');
    expect(text).toContain('no_such_process');
    expect(text).toContain('vera'); // the refused viewer is audited too
    for (const event of events) {
      expect(JSON.stringify(event)).toMatch(/admin|vera/);
    }
  });

  it('records a command unknown when the agent is killed while it is in flight', async () => {
    // Stopped, the agent reads nothing: the command the API sends waits in its socket, so the
    // test sees it arrive there and then kills the agent before it could answer. (A ping frame
    // is a few bytes; a command frame is well over 32.)
    const stateDir = agent.stateDir;
    const killed = agent.process;
    killed.signal('SIGSTOP');
    const before = receiveQueueBytes(killed.pid, api.port);
    const pending = act(4_000_000, 'kill', adminToken, 'in flight');
    await waitFor(
      'the command to reach the stopped agent',
      async () => (receiveQueueBytes(killed.pid, api.port) > before + 32 ? true : undefined),
      { intervalMs: 20 },
    );
    killed.signal('SIGKILL');
    expect((await killed.exit()).signal).toBe('SIGKILL');

    const reply = await pending;
    expect(reply.status).toBe(502);
    expect(reply.body.code).toBe('outcome_unknown');
    const command = await client
      .as(adminToken)
      .request('GET', `/api/v1/commands/${reply.body.commandId}`);
    expect(command.body).toMatchObject({ status: 'unknown', errorCode: 'outcome_unknown' });
    const audit = await client
      .as(adminToken)
      .request('GET', `/api/v1/audit?agentId=${agentId}&action=process.kill&limit=5`);
    expect((audit.body.items as any[]).filter((e) => e.commandId === reply.body.commandId)).toEqual(
      [
        expect.objectContaining({
          reason: 'in flight',
          outcome: 'unknown',
          errorCode: 'outcome_unknown',
        }),
      ],
    );

    agent = startAgent({
      controlUrl: `ws://127.0.0.1:${api.port}/v1/opamp`,
      token: agentToken,
      stateDir,
    });
    await waitForAgent(client, adminToken, (a) => a.id === agentId, { process: agent.process });
  });

  it('answers 503 or 504 within the deadline when the agent dies, and the agent reconnects by itself', async () => {
    const stateDir = agent.stateDir;
    await agent.stop();
    const offline = await act(4_000_000, 'kill');
    expect([503, 504]).toContain(offline.status);
    expect(['agent_offline', 'agent_timeout']).toContain(offline.body.code);

    // A restarted agent keeps its instance uid and comes back online without help.
    agent = startAgent({
      controlUrl: `ws://127.0.0.1:${api.port}/v1/opamp`,
      token: agentToken,
      stateDir,
    });
    await waitForAgent(client, adminToken, (a) => a.id === agentId, { process: agent.process });

    // The control API restarted: the running agent reconnects by itself.
    const port = api.port;
    await api.stop();
    api = await startControlApi({ workDir, admin, port });
    client = api.client;
    adminToken = (await client.login(admin.username, admin.password)).accessToken;
    await waitForAgent(client, adminToken, (a) => a.id === agentId, {
      process: agent.process,
      timeoutMs: 60_000,
    });
    const listed = await client
      .as(adminToken)
      .request('GET', `/api/v1/agents/${agentId}/processes`);
    expect(listed.status).toBe(200);
  });
});
