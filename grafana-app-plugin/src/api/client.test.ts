import { describe, expect, it } from 'vitest';

import { FakeBackend, problem } from '../test/fakeBackend';
import { FleetApiClient } from './client';
import { ApiError } from './problem';

const READ = '/api/plugin-proxy/cybercorp-fleet-app/read';
const ACT = '/api/plugin-proxy/cybercorp-fleet-app/act';

describe('FleetApiClient', () => {
  it('reads through the Viewer proxy route and returns the page as the API sent it', async () => {
    const backend = new FakeBackend().reply('GET', `${READ}/agents`, {
      items: [
        {
          id: 'a1',
          hostname: 'web-1',
          online: true,
          lastSeenAt: '2026-01-01T00:00:00Z',
          capabilities: [],
        },
      ],
      nextCursor: 'c2',
    });
    const page = await new FleetApiClient(backend).listAgents();
    expect(page.items.map((a) => a.hostname)).toEqual(['web-1']);
    expect(page.nextCursor).toBe('c2');
    const [request] = backend.sent('GET', `${READ}/agents`);
    expect(request?.params).toEqual({});
    expect(request?.showErrorAlert).toBe(false);
  });

  it('asks the API for every audit filter, with the cursor', async () => {
    const backend = new FakeBackend().reply('GET', `${READ}/audit`, { items: [] });
    await new FleetApiClient(backend).listAudit(
      { actor: 'alice', agentId: undefined, action: 'process.kill', since: '2026-11-25T00:00:00Z' },
      'next-1',
    );
    expect(backend.sent('GET', `${READ}/audit`)[0]?.params).toEqual({
      actor: 'alice',
      action: 'process.kill',
      since: '2026-11-25T00:00:00Z',
      limit: 100,
      cursor: 'next-1',
    });
  });

  it("asks for one agent's events in a range, as one page of the largest size, and says if more were left", async () => {
    const backend = new FakeBackend().reply('GET', `${READ}/events`, {
      items: [
        {
          id: '11',
          at: '2026-11-25T12:00:00Z',
          type: 'process.kill',
          agentId: 'a1',
          actor: 'alice',
          outcome: 'succeeded',
          targetType: 'process',
          targetId: '120',
          commandId: null,
          auditId: '7',
          details: { reason: 'runaway worker' },
        },
      ],
      nextCursor: '11',
    });
    const page = await new FleetApiClient(backend).listEvents(
      'a1',
      '2026-11-24T18:00:00Z',
      '2026-11-25T18:00:00Z',
    );
    expect(page.items.map((e) => [e.type, e.targetId])).toEqual([['process.kill', '120']]);
    expect(page.truncated).toBe(true);
    expect(backend.sent('GET', `${READ}/events`)[0]?.params).toEqual({
      agentId: 'a1',
      since: '2026-11-24T18:00:00Z',
      until: '2026-11-25T18:00:00Z',
      limit: 500,
    });
  });

  it('sends actions as POST on the Editor route with the action and reason as JSON', async () => {
    const backend = new FakeBackend().reply('POST', `${ACT}/agents/a%2F1/processes/4242/actions`, {
      commandId: '7d1f8b8e-0000-4000-8000-000000000001',
      status: 'succeeded',
    });
    const outcome = await new FleetApiClient(backend).actOnProcess(
      'a/1',
      4242,
      'terminate',
      'stuck job',
    );
    expect(outcome.status).toBe('succeeded');
    const [request] = backend.sent('POST', `${ACT}/agents/a%2F1/processes/4242/actions`);
    expect(request?.data).toEqual({ action: 'terminate', reason: 'stuck job' });
  });

  it("adds the process's startedAt when the row has one", async () => {
    const path = `${ACT}/agents/a1/processes/4242/actions`;
    const backend = new FakeBackend().reply('POST', path, {
      commandId: '7d1f8b8e-0000-4000-8000-000000000001',
      status: 'succeeded',
    });
    const client = new FleetApiClient(backend);
    await client.actOnProcess('a1', 4242, 'kill', 'r', '2026-01-01T00:00:00.000Z');
    await client.actOnProcess('a1', 4242, 'kill', 'r', null);
    expect(backend.sent('POST', path).map((r): unknown => r.data)).toEqual([
      { action: 'kill', reason: 'r', startedAt: '2026-01-01T00:00:00.000Z' },
      { action: 'kill', reason: 'r' },
    ]);
  });

  it('sends window actions without a reason', async () => {
    const backend = new FakeBackend().reply('POST', `${ACT}/agents/a1/windows/0x1a00003/actions`, {
      commandId: 'c',
      status: 'succeeded',
    });
    await new FleetApiClient(backend).actOnWindow('a1', '0x1a00003', 'minimize');
    expect(backend.sent('POST', `${ACT}/agents/a1/windows/0x1a00003/actions`)[0]?.data).toEqual({
      action: 'minimize',
    });
  });

  it('unwraps the items of live lists', async () => {
    const backend = new FakeBackend()
      .reply('GET', `${READ}/agents/a1/processes`, { items: [{ pid: 10 }] })
      .reply('GET', `${READ}/agents/a1/windows`, { items: [{ id: 'w1' }, { id: 'w2' }] });
    const client = new FleetApiClient(backend);
    expect((await client.listProcesses('a1')).map((p) => p.pid)).toEqual([10]);
    expect((await client.listWindows('a1')).map((w) => w.id)).toEqual(['w1', 'w2']);
  });

  it('turns a problem+json answer into an ApiError with its code and detail', async () => {
    const backend = new FakeBackend().fail(
      'POST',
      `${ACT}/agents/a1/processes/1/actions`,
      problem(403, 'protected_process', 'pid 1 is protected'),
    );
    const failure = await new FleetApiClient(backend)
      .actOnProcess('a1', 1, 'kill', 'test')
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({
      status: 403,
      code: 'protected_process',
      detail: 'pid 1 is protected',
    });
  });

  it("keeps Grafana's own refusal message when the proxy answers without a problem body", async () => {
    const backend = new FakeBackend().fail('POST', `${ACT}/agents/a1/windows/w/actions`, {
      status: 403,
      statusText: 'Forbidden',
      data: { message: 'Permission denied' },
    });
    const failure = await new FleetApiClient(backend)
      .actOnWindow('a1', 'w', 'close')
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ status: 403, code: 'http_403', detail: 'Permission denied' });
  });

  it('reports a request that never got an answer as network_error', async () => {
    const backend = new FakeBackend().fail('GET', `${READ}/me`, { status: 0, data: undefined });
    const failure = await new FleetApiClient(backend).me().catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: 'network_error',
      detail: 'The control API could not be reached',
    });
  });
});
