/**
 * Issue 10's impostor test against the real thing: the control API binary on embedded
 * PostgreSQL and the real `cybercorp-agent` on this host's /proc. A second agent token claims
 * the real agent's instance uid (the impostor is the fake agent, speaking real OpAMP); it is
 * refused, and the real agent stays connected and answers the next command itself. Only
 * processes this test spawned are signalled.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentToServerSchema,
  OPAMP_HTTP_CONTENT_TYPE,
  ServerErrorResponseType,
  create,
  encodeAgentToServer,
  instanceUidFromString,
} from '@cybercorp/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent, ok } from '../control-api/src/test-support/fake-agent.js';
import type { ApiClient } from '../control-api/src/test-support/rest-client.js';
import {
  procState,
  startAgent,
  startControlApi,
  waitForAgent,
  type RunningAgent,
  type RunningControlApi,
} from './support/control-stack.js';
import { exitOf, spawnSleeper, waitFor } from './support/processes.js';

const admin = { username: 'admin', password: 'e2e-admin-password-1' };
const read = (path: string) => readFileSync(path, 'utf8');
/** The agent's log line for a connection that ended (it would follow a close or a replacement). */
const CONNECTION_ENDED = 'control plane connection ended';

describe('agent identity: the real agent and an impostor token', () => {
  let workDir: string;
  let api: RunningControlApi;
  let agent: RunningAgent;
  let client: ApiClient;
  let agentTokenId: string;
  let agentId: string;
  const spawned: ChildProcess[] = [];
  const impostors: FakeAgent[] = [];

  const createToken = async (name: string) => {
    const created = await client.request<{ id: string; token: string; maxAgents: unknown }>(
      'POST',
      '/api/v1/agent-tokens',
      { name },
    );
    expect(created.status).toBe(201);
    expect(created.body.maxAgents).toBe(1);
    return created.body;
  };

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'cybercorp-e2e-identity-'));
    api = await startControlApi({ workDir, admin });
    client = api.client;
    await client.login(admin.username, admin.password);
    const token = await createToken('real host');
    agentTokenId = token.id;
    agent = startAgent({ controlUrl: `ws://127.0.0.1:${api.port}/v1/opamp`, token: token.token });
    agentId = (
      await waitForAgent(client, client.accessToken!, () => true, { process: agent.process })
    ).id;
  });

  afterAll(async () => {
    for (const impostor of impostors) await impostor.drop().catch(() => undefined);
    for (const child of spawned)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await agent?.stop();
    await api?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("refuses a second token claiming the real agent's uid; the real agent answers the next command", async () => {
    const impostorToken = (await createToken('impostor')).token;
    const impostor = await FakeAgent.connect({
      url: `ws://127.0.0.1:${api.port}/v1/opamp`,
      token: impostorToken,
      instanceUid: agentId,
      respond: (command) => ok(command, []),
    });
    impostors.push(impostor);
    const reply = await impostor.sendAndWait();
    expect(reply.errorResponse?.type).toBe(
      ServerErrorResponseType.ServerErrorResponseType_BadRequest,
    );
    expect(reply.errorResponse?.errorMessage).toContain('agent_identity_conflict');
    expect((await impostor.closed).code).toBe(1008);

    const polled = await fetch(`${api.url}/v1/opamp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${impostorToken}`,
        'content-type': OPAMP_HTTP_CONTENT_TYPE,
      },
      body: Buffer.from(
        encodeAgentToServer(
          create(AgentToServerSchema, { instanceUid: instanceUidFromString(agentId) }),
        ),
      ),
    });
    expect(polled.status).toBe(409);
    expect(await polled.json()).toMatchObject({ code: 'agent_identity_conflict' });

    // The next command reaches the real agent: it sees a process this test just spawned (the
    // impostor would have answered an empty list) and really suspends it.
    const sleeper = spawnSleeper();
    spawned.push(sleeper);
    const listed = await waitFor('the spawned sleep in the real agent’s process list', async () => {
      const response = await client.request<{ items: { pid: number }[] }>(
        'GET',
        `/api/v1/agents/${agentId}/processes`,
      );
      expect(response.status).toBe(200);
      return response.body.items.find((p) => p.pid === sleeper.pid);
    });
    expect(listed).toMatchObject({ pid: sleeper.pid, name: 'sleep' });
    const suspended = await client.request(
      'POST',
      `/api/v1/agents/${agentId}/processes/${sleeper.pid}/actions`,
      { action: 'suspend', reason: 'impostor test' },
    );
    expect(suspended.status).toBe(200);
    expect(procState(sleeper.pid, read)).toBe('T');
    const exit = exitOf(sleeper);
    expect(
      (
        await client.request('POST', `/api/v1/agents/${agentId}/processes/${sleeper.pid}/actions`, {
          action: 'kill',
          reason: 'impostor test',
        })
      ).status,
    ).toBe(200);
    expect(await exit).toEqual({ code: null, signal: 'SIGKILL' });

    // Its one connection was never closed nor replaced.
    expect(agent.process.output()).not.toContain(CONNECTION_ENDED);
    expect((await client.request('GET', `/api/v1/agents/${agentId}`)).body).toMatchObject({
      online: true,
    });
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(
      /^cybercorp_opamp_identity_conflicts_total\{reason="uid_claimed"\} 2$/m,
    );
  });

  it("revoking the real agent's token disconnects it, and its reconnects are refused with 401", async () => {
    const revoked = await client.request('DELETE', `/api/v1/agent-tokens/${agentTokenId}`);
    expect(revoked.status).toBe(204);
    await waitFor(
      'the agent to report its refused reconnect',
      async () => (/"httpStatus":401/.test(agent.process.output()) ? true : undefined),
      { process: agent.process, timeoutMs: 60_000 },
    );
    expect(agent.process.output()).toContain(CONNECTION_ENDED);
    expect((await client.request('GET', `/api/v1/agents/${agentId}`)).body).toMatchObject({
      online: false,
    });
    agent.process.assertRunning();
  });
});
