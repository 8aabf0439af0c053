/**
 * Must-hold 2 of issue 11: the real agent (collector-agent dist through its launcher, the
 * protected-process policy on) connects through the real nginx gateway over wss://, checking
 * the gateway's certificate against the dev CA and an SPKI pin. With the right pin it comes
 * online and executes a command on a process this test spawned; with a wrong pin it refuses to
 * connect and its log says why; with a backup pin in the set it connects.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevCerts, type DevCerts } from '../control-api/src/test-support/dev-certs.js';
import { ADMIN, startTestApi, type TestApi } from '../control-api/src/test-support/test-api.js';
import { startAgent, type RunningAgent } from './support/control-stack.js';
import { H2Client, startGateway, type Gateway } from './support/gateway.js';
import { exitOf, spawnSleeper, waitFor } from './support/processes.js';

/** A well-formed pin of no key here. */
const WRONG_PIN = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

interface ListedAgent {
  id: string;
  hostname: string;
  online: boolean;
}

describe('agent through the gateway over wss:// with SPKI pins', () => {
  let certs: DevCerts;
  let api: TestApi;
  let gateway: Gateway;
  let client: H2Client;
  let adminToken: string;
  const agents: RunningAgent[] = [];
  const sleepers: Array<ReturnType<typeof spawnSleeper>> = [];

  beforeAll(async () => {
    certs = await makeDevCerts();
    api = await startTestApi({ certs });
    gateway = await startGateway({ upstreams: [api], certs });
    client = await H2Client.connect(gateway.url, { ca: await readFile(certs.caFile) });
    const login = await client.request('POST', '/api/v1/auth/login', { json: ADMIN });
    expect(login.status).toBe(200);
    adminToken = login.json<{ accessToken: string }>().accessToken;
  });

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    for (const sleeper of sleepers) {
      if (sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
    }
    await client?.close();
    await gateway?.stop();
    await api?.stop();
    await certs?.remove();
  });

  function request(method: string, path: string, json?: unknown) {
    return client.request(method, path, {
      headers: { authorization: `Bearer ${adminToken}` },
      ...(json === undefined ? {} : { json }),
    });
  }

  /**
   * The real agent, pointed at the gateway with the dev CA and `pins`, named `hostName`, with a
   * token of its own (a token holds one agent).
   */
  async function agentWithPins(
    hostName: string,
    pins: string,
    caFile = certs.caFile,
  ): Promise<RunningAgent> {
    const created = await request('POST', '/api/v1/agent-tokens', { name: hostName });
    expect(created.status).toBe(201);
    const agent = startAgent({
      controlUrl: gateway.opampUrl,
      token: created.json<{ token: string }>().token,
      env: {
        CYBERCORP_CA_FILE: caFile,
        CYBERCORP_TLS_PIN_SHA256: pins,
        OTEL_RESOURCE_ATTRIBUTES: `host.name=${hostName}`,
      },
    });
    agents.push(agent);
    return agent;
  }

  async function listed(hostName: string): Promise<ListedAgent | undefined> {
    const reply = await request('GET', '/api/v1/agents');
    expect(reply.status).toBe(200);
    return reply.json<{ items: ListedAgent[] }>().items.find((a) => a.hostname === hostName);
  }

  const online = (hostName: string, agent: RunningAgent) =>
    waitFor(
      `${hostName} online through the gateway`,
      async () => {
        const found = await listed(hostName);
        return found?.online ? found : undefined;
      },
      { timeoutMs: 30_000, process: agent.process },
    );

  /** The agent's JSON log lines that carry `code`. */
  const logLinesWithCode = (agent: RunningAgent, code: string) =>
    agent.process
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.code === code);

  it('with the gateway certificate pinned: comes online and terminates a process the test spawned', async () => {
    const agent = await agentWithPins('gw-tls-pinned', `sha256/${certs.pin}`);
    const listedAgent = await online('gw-tls-pinned', agent);

    const sleeper = spawnSleeper();
    sleepers.push(sleeper);
    const action = await request(
      'POST',
      `/api/v1/agents/${listedAgent.id}/processes/${sleeper.pid}/actions`,
      { action: 'terminate', reason: 'issue 11 must-hold 2' },
    );
    expect(action.status, action.body.toString()).toBe(200);
    expect(action.json()).toMatchObject({ status: 'succeeded' });
    expect(await exitOf(sleeper)).toEqual({ code: null, signal: 'SIGTERM' });

    // The agent knows only the gateway's URL; nginx logs the OpAMP upgrade (101) once the
    // WebSocket ends, so stop the agent and look.
    await agent.stop();
    await waitFor('the OpAMP upgrade in the gateway access log', async () =>
      (await gateway.accessLog()).find((e) => e.path.startsWith('/v1/opamp') && e.status === 101),
    );
  });

  it('with a wrong pin: refuses to connect, and says why with both pin sets', async () => {
    const agent = await agentWithPins('gw-tls-wrong-pin', WRONG_PIN);
    const refusal = await waitFor(
      'the agent to log tls_pin_mismatch',
      async () => logLinesWithCode(agent, 'tls_pin_mismatch')[0],
      { timeoutMs: 30_000, process: agent.process },
    );
    expect(refusal).toMatchObject({
      level: 'error',
      url: gateway.opampUrl,
      expectedPins: [WRONG_PIN],
    });
    expect(refusal.presentedPins).toContain(certs.pin);
    // It keeps retrying the same URL (and stays refused) without another line per attempt.
    await waitFor(
      'a second refused attempt',
      async () =>
        agent.process
          .output()
          .split('\n')
          .filter((l) => l.includes('tls_pin_mismatch: ')).length >= 2
          ? true
          : undefined,
      { timeoutMs: 30_000, process: agent.process },
    );
    expect(logLinesWithCode(agent, 'tls_pin_mismatch')).toHaveLength(1);
    expect(await listed('gw-tls-wrong-pin')).toBeUndefined();
    agent.process.assertRunning();
  });

  it('with a backup pin in the set: connects', async () => {
    const agent = await agentWithPins('gw-tls-backup-pin', `${WRONG_PIN},${certs.pin}`);
    await online('gw-tls-backup-pin', agent);
    expect(logLinesWithCode(agent, 'tls_pin_mismatch')).toEqual([]);
  });

  it('with a CA file that did not issue the gateway certificate: refused even with the right pin', async () => {
    const otherCerts = await makeDevCerts();
    try {
      const agent = await agentWithPins('gw-tls-other-ca', certs.pin, otherCerts.caFile);
      const refusal = await waitFor(
        'the agent to log tls_verify_failed',
        async () => logLinesWithCode(agent, 'tls_verify_failed')[0],
        { timeoutMs: 30_000, process: agent.process },
      );
      expect(refusal).toMatchObject({ level: 'error', url: gateway.opampUrl });
      expect(String(refusal.verifyError)).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|ISSUER/);
      expect(await listed('gw-tls-other-ca')).toBeUndefined();
    } finally {
      await otherCerts.remove();
    }
  });
});
