import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_SERVICE_RESTART } from './opamp/close-codes.js';
import { startControlApi, type ControlApi } from './server.js';
import { FakeAgent } from './test-support/fake-agent.js';
import { ApiClient } from './test-support/rest-client.js';

let dataDir: string;
const running: ControlApi[] = [];

async function start(announced: string[]): Promise<ControlApi> {
  const api = await startControlApi({
    port: 0,
    dataDir,
    logLevel: 'silent',
    commandTimeoutMs: 60_000,
    announce: (message) => announced.push(message),
  });
  running.push(api);
  return api;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'control-api-lifecycle-'));
});
afterAll(async () => {
  for (const api of running) await api.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('first start, graceful shutdown and restart on the same data directory', () => {
  let accessToken: string;
  let password: string;
  let agentId: string;

  it('generates the admin password once and announces it', async () => {
    const announced: string[] = [];
    const api = await start(announced);
    expect(announced).toHaveLength(1);
    expect(api.admin.created).toBe(true);
    password = api.admin.password!;
    expect(announced[0]).toContain(password);
    const client = new ApiClient(api.url);
    accessToken = (await client.login('admin', password)).accessToken;

    // Shut down while a command the agent received waits for its answer: the caller learns at
    // once that its outcome is unknown (the agent may still carry it out).
    const agent = await FakeAgent.start({
      url: api.opampUrl,
      token: await api.createAgentToken('lifecycle'),
      respond: () => undefined,
    });
    agentId = agent.instanceUid;
    const pending = client.request('POST', `/api/v1/agents/${agentId}/processes/4242/actions`, {
      action: 'kill',
    });
    await agent.until(() => agent.commands.length === 1);
    await api.close();
    const reply = await pending;
    expect(reply.status).toBe(502);
    expect(reply.body.code).toBe('outcome_unknown');
    // 1012 service restart: the agent comes back soon, through whichever instance is there.
    expect((await agent.closed).code).toBe(CLOSE_SERVICE_RESTART);
    await expect(fetch(`${api.url}/healthz`)).rejects.toThrow();
  });

  it('restarts on the existing cluster, keeping users, signing secret and agents', async () => {
    const announced: string[] = [];
    const api = await start(announced);
    expect(announced).toEqual([]);
    expect(api.admin.created).toBe(false);
    const client = new ApiClient(api.url, accessToken);
    expect((await client.request('GET', '/api/v1/me')).body.username).toBe('admin');
    expect((await client.request('GET', `/api/v1/agents/${agentId}`)).body).toMatchObject({
      online: false,
    });
    const audit = await client.request<{ items: Record<string, unknown>[] }>(
      'GET',
      `/api/v1/audit?agentId=${agentId}`,
    );
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        action: 'process.kill',
        outcome: 'unknown',
        errorCode: 'outcome_unknown',
      }),
    ]);
    await new ApiClient(api.url).login('admin', password);
  });
});
