/**
 * The plugin's API client against the real control API (embedded PostgreSQL, a fake OpAMP agent
 * on a real WebSocket), through the stand-in for Grafana's plugin proxy driven by plugin.json's
 * routes (GrafanaProxyFake) and Grafana's backend service over it (FetchBackendSrv). This pins
 * the REST shapes the pages rely on to what the API really answers.
 */
import { CONTROL_CAPABILITY, WINDOWS_CAPABILITY } from '@cybercorp/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  defaultResponder,
  FakeAgent,
  failed,
  PROCESS_FIXTURE,
  WINDOW_FIXTURE,
} from '../../../control-api/src/test-support/fake-agent.js';
import { ApiClient } from '../../../control-api/src/test-support/rest-client.js';
import {
  ADMIN,
  startTestApi,
  type TestApi,
} from '../../../control-api/src/test-support/test-api.js';
import pluginJson from '../plugin.json';
import { FetchBackendSrv } from '../test/backendSrv';
import { GrafanaProxyFake, type GrafanaRole } from '../test/grafanaProxy';
import { attributeOf } from './agents';
import { FleetApiClient } from './client';
import { ApiError } from './problem';

let api: TestApi;
let agent: FakeAgent;
let readToken: string;
let actToken: string;

function clientAs(role: GrafanaRole): FleetApiClient {
  const grafana = new GrafanaProxyFake({
    plugin: pluginJson,
    settings: { jsonData: { apiUrl: api.url }, secureJsonData: { readToken, actToken } },
    role,
  });
  return new FleetApiClient(new FetchBackendSrv(grafana.fetch));
}

beforeAll(async () => {
  api = await startTestApi();
  const admin = new ApiClient(api.url);
  await admin.login(ADMIN.username, ADMIN.password);
  // Until the API issues service tokens, user access tokens of the matching roles stand in.
  readToken = (await admin.userClient('grafana-read', 'viewer')).accessToken!;
  actToken = (await admin.userClient('grafana-act', 'operator')).accessToken!;
  const agentToken = await api.createAgentToken('plugin-tests');
  agent = await FakeAgent.start({
    url: api.opampUrl,
    token: agentToken,
    hostname: 'web-1',
    customCapabilities: [CONTROL_CAPABILITY, WINDOWS_CAPABILITY],
    respond: (command) =>
      command.type === 'process.signal' && command.pid === 1
        ? failed(command, 'protected_process', 'pid 1 is never signalled')
        : defaultResponder(command),
  });
}, 180_000);

afterAll(async () => {
  await agent?.drop().catch(() => undefined);
  await api?.stop();
});

describe('FleetApiClient against the control API', () => {
  it('reads /me with the read token', async () => {
    const me = await clientAs('Viewer').me();
    expect(me).toMatchObject({ username: 'grafana-read', role: 'viewer' });
  });

  it('lists the agent with the fields the Fleet page shows', async () => {
    const page = await clientAs('Viewer').listAgents();
    const listed = page.items.find((a) => a.id === agent.instanceUid);
    expect(listed).toMatchObject({ hostname: 'web-1', online: true });
    expect(listed?.capabilities).toContain(CONTROL_CAPABILITY);
    expect(typeof listed?.lastSeenAt).toBe('string');
    expect(attributeOf(listed!, 'os.type')).toBe('linux');
    expect(await clientAs('Viewer').getAgent(agent.instanceUid)).toMatchObject({
      id: agent.instanceUid,
    });
  });

  it('lists processes and windows as the agent reported them', async () => {
    const client = clientAs('Viewer');
    expect(await client.listProcesses(agent.instanceUid)).toEqual(PROCESS_FIXTURE);
    expect(await client.listWindows(agent.instanceUid)).toEqual(WINDOW_FIXTURE);
  });

  it('acts on a process through the act route and gets the command back', async () => {
    const outcome = await clientAs('Editor').actOnProcess(
      agent.instanceUid,
      4242,
      'terminate',
      'plugin test',
    );
    expect(outcome.status).toBe('succeeded');
    expect(outcome.commandId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('acts on a window', async () => {
    const outcome = await clientAs('Editor').actOnWindow(agent.instanceUid, '0x1a00003', 'focus');
    expect(outcome.status).toBe('succeeded');
  });

  it("surfaces the agent's protected_process refusal as an ApiError", async () => {
    const failure = await clientAs('Editor')
      .actOnProcess(agent.instanceUid, 1, 'kill', 'should be refused')
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 403, code: 'protected_process' });
  });

  it('keeps Grafana Viewers away from actions', async () => {
    const failure = await clientAs('Viewer')
      .actOnProcess(agent.instanceUid, 4242, 'kill', 'viewer tries')
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ status: 403, code: 'http_403' });
  });

  it('answers an unknown agent with no_such_agent', async () => {
    const failure = await clientAs('Viewer')
      .getAgent('00000000-0000-4000-8000-000000000000')
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ status: 404, code: 'no_such_agent' });
  });

  it('reads the audit log, filtered by actor, with each action, reason and outcome', async () => {
    const page = await clientAs('Viewer').listAudit({ actor: 'grafana-act' });
    expect(page.items.length).toBeGreaterThanOrEqual(3);
    expect(page.items.every((e) => e.actor === 'grafana-act')).toBe(true);
    expect(page.items).toContainEqual(
      expect.objectContaining({
        action: 'process.terminate',
        reason: 'plugin test',
        outcome: 'succeeded',
      }),
    );
    const refused = page.items.find((e) => e.action === 'process.kill' && e.targetId === '1');
    expect(refused).toMatchObject({ errorCode: 'protected_process' });
    expect(['failed', 'denied']).toContain(refused?.outcome);
  });

  it('has the audit log filtered by action and time by the API', async () => {
    const viewer = clientAs('Viewer');
    const all = await viewer.listAudit({ actor: 'grafana-act' });
    const kills = await viewer.listAudit({ actor: 'grafana-act', action: 'process.kill' });
    expect(kills.items.map((e) => e.id)).toEqual(
      all.items.filter((e) => e.action === 'process.kill').map((e) => e.id),
    );
    expect(kills.items.length).toBeGreaterThanOrEqual(1);
    const oldest = all.items[all.items.length - 1]!;
    const sinceOldest = await viewer.listAudit({ actor: 'grafana-act', since: oldest.at });
    expect(sinceOldest.items).toEqual(all.items);
    const later = new Date(Date.parse(all.items[0]!.at) + 1).toISOString();
    expect(await viewer.listAudit({ actor: 'grafana-act', since: later })).toEqual({
      items: [],
      nextCursor: null,
    });
  });
});
