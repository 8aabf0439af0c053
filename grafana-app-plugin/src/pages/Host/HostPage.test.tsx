import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { testIds } from '../../components/testIds';
import { FakeBackend, problem } from '../../test/fakeBackend';
import { renderApp } from '../../test/render';

vi.mock('@grafana/runtime', async () => (await import('../../test/runtimeMock')).runtimeMock);

const AGENT_ID = '0190a1b2-0000-7000-8000-000000000001';
const READ = `/api/plugin-proxy/cybercorp-fleet-app/read/agents/${AGENT_ID}`;
const ACT = `/api/plugin-proxy/cybercorp-fleet-app/act/agents/${AGENT_ID}`;
const HOST = `/a/cybercorp-fleet-app/hosts/${AGENT_ID}`;
const EVENTS = '/api/plugin-proxy/cybercorp-fleet-app/read/events';
const NO_EVENTS = { items: [], nextCursor: null };

const agent = {
  id: AGENT_ID,
  hostname: 'web-1',
  online: true,
  lastSeenAt: '2026-11-25T18:00:00Z',
  capabilities: ['io.cybercorp.control.v1', 'io.cybercorp.windows.v1'],
};

function proc(pid: number, name: string, cpuPercent: number, memoryBytes: number) {
  return {
    pid,
    ppid: 1,
    name,
    user: 'app',
    state: 'S',
    cpuPercent,
    memoryBytes,
    command: `/usr/bin/${name}`,
    startedAt: null,
  };
}
const PROCESSES = [
  proc(300, 'nginx', 2.5, 50_000_000),
  proc(120, 'postgres', 40, 900_000_000),
  proc(999, 'bash', 0.1, 4_000_000),
];

const WINDOWS = [
  {
    id: '0x1a00003',
    title: 'Terminal',
    pid: 4242,
    bounds: { x: 0, y: 0, width: 800, height: 600 },
    active: true,
    minimized: false,
    maximized: false,
  },
  {
    id: '0x1c00007',
    title: 'Editor',
    pid: 4300,
    bounds: { x: 10, y: 10, width: 640, height: 480 },
    active: false,
    minimized: true,
    maximized: false,
  },
];

function pidsInTable(): string[] {
  const rows = within(screen.getByTestId(testIds.processes.table)).getAllByRole('row').slice(1);
  return rows.map((row) => within(row).getAllByRole('cell')[0]!.textContent ?? '');
}

function hostBackend() {
  return new FakeBackend()
    .reply('GET', READ, agent)
    .reply('GET', EVENTS, NO_EVENTS)
    .reply('GET', `${READ}/processes`, { items: PROCESSES })
    .reply('GET', `${READ}/windows`, { items: WINDOWS });
}

describe('Host page, Processes tab', () => {
  it('lists processes, heaviest CPU first, and re-sorts by the clicked column', async () => {
    renderApp(hostBackend(), `${HOST}/processes`);
    expect(await screen.findByRole('heading', { name: /web-1/ })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /Host overview dashboard/ })).toHaveAttribute(
      'href',
      '/d/cybercorp-host-overview/cybercorp-host-overview?var-host_name=web-1',
    );
    await screen.findByTestId(testIds.processes.table);
    expect(pidsInTable()).toEqual(['120', '300', '999']);

    await userEvent.click(screen.getByTestId(testIds.processes.sortBy('pid')));
    expect(pidsInTable()).toEqual(['120', '300', '999']);
    await userEvent.click(screen.getByTestId(testIds.processes.sortBy('pid')));
    expect(pidsInTable()).toEqual(['999', '300', '120']);

    await userEvent.click(screen.getByTestId(testIds.processes.sortBy('name')));
    expect(pidsInTable()).toEqual(['999', '300', '120']);

    await userEvent.click(screen.getByTestId(testIds.processes.sortBy('memoryBytes')));
    expect(pidsInTable()).toEqual(['120', '300', '999']);
  });

  it('filters by name or pid', async () => {
    renderApp(hostBackend(), `${HOST}/processes`);
    await screen.findByTestId(testIds.processes.table);
    await userEvent.type(screen.getByTestId(testIds.processes.filter), 'ngi');
    expect(pidsInTable()).toEqual(['300']);
    await userEvent.clear(screen.getByTestId(testIds.processes.filter));
    await userEvent.type(screen.getByTestId(testIds.processes.filter), '999');
    expect(pidsInTable()).toEqual(['999']);
  });

  it('asks for a reason before acting, then sends it and shows the outcome', async () => {
    const backend = hostBackend().reply('POST', `${ACT}/processes/300/actions`, {
      commandId: '11111111-2222-4333-8444-555555555555',
      status: 'succeeded',
    });
    renderApp(backend, `${HOST}/processes`);
    await screen.findByTestId(testIds.processes.table);

    await userEvent.click(screen.getByTestId(testIds.processes.action(300, 'terminate')));
    const confirm = screen.getByTestId(testIds.processes.confirm);
    expect(confirm).toBeDisabled();
    expect(backend.sent('POST', `${ACT}/processes/300/actions`)).toHaveLength(0);

    await userEvent.type(screen.getByTestId(testIds.processes.reason), 'runaway worker');
    await userEvent.click(confirm);

    const result = await screen.findByTestId(testIds.processes.result);
    expect(result).toHaveTextContent('terminate nginx (pid 300): succeeded');
    expect(result).toHaveTextContent('11111111-2222-4333-8444-555555555555');
    expect(backend.sent('POST', `${ACT}/processes/300/actions`)[0]?.data).toEqual({
      action: 'terminate',
      reason: 'runaway worker',
    });
    expect(screen.queryByTestId(testIds.processes.reason)).not.toBeInTheDocument();
  });

  it('shows a protected_process refusal plainly', async () => {
    const backend = hostBackend().fail(
      'POST',
      `${ACT}/processes/120/actions`,
      problem(403, 'protected_process', 'postgres is on the protected list'),
    );
    renderApp(backend, `${HOST}/processes`);
    await screen.findByTestId(testIds.processes.table);
    await userEvent.click(screen.getByTestId(testIds.processes.action(120, 'kill')));
    await userEvent.type(screen.getByTestId(testIds.processes.reason), 'test');
    await userEvent.click(screen.getByTestId(testIds.processes.confirm));

    const result = await screen.findByTestId(testIds.processes.result);
    expect(result).toHaveTextContent('Refused by the agent: the process is protected');
    expect(result).toHaveTextContent('postgres is on the protected list');
    expect(result).toHaveTextContent('protected_process');
  });

  it("sends the row's startedAt, and says plainly when the pid now belongs to another process", async () => {
    const startedAt = '2026-11-25T17:00:00.000Z';
    const backend = hostBackend()
      .reply('GET', `${READ}/processes`, { items: [{ ...proc(300, 'nginx', 2.5, 1), startedAt }] })
      .fail(
        'POST',
        `${ACT}/processes/300/actions`,
        problem(409, 'process_changed', 'pid 300 is now a process started at 17:05'),
      );
    renderApp(backend, `${HOST}/processes`);
    await screen.findByTestId(testIds.processes.table);
    await userEvent.click(screen.getByTestId(testIds.processes.action(300, 'kill')));
    await userEvent.type(screen.getByTestId(testIds.processes.reason), 'stuck');
    await userEvent.click(screen.getByTestId(testIds.processes.confirm));

    const result = await screen.findByTestId(testIds.processes.result);
    expect(result).toHaveTextContent('The process has changed: its pid now belongs to another');
    expect(result).toHaveTextContent('process_changed');
    expect(backend.sent('POST', `${ACT}/processes/300/actions`)[0]?.data).toEqual({
      action: 'kill',
      reason: 'stuck',
      startedAt,
    });
  });

  it('cancelling the confirmation sends nothing', async () => {
    const backend = hostBackend();
    renderApp(backend, `${HOST}/processes`);
    await screen.findByTestId(testIds.processes.table);
    await userEvent.click(screen.getByTestId(testIds.processes.action(999, 'suspend')));
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByTestId(testIds.processes.reason)).not.toBeInTheDocument();
    expect(backend.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('shows agent_offline when the process list cannot be fetched', async () => {
    const backend = new FakeBackend()
      .reply('GET', READ, { ...agent, online: false })
      .reply('GET', EVENTS, NO_EVENTS)
      .fail(
        'GET',
        `${READ}/processes`,
        problem(503, 'agent_offline', 'web-1 missed two heartbeats'),
      );
    renderApp(backend, `${HOST}/processes`);
    const error = await screen.findByTestId(testIds.state.error);
    expect(error).toHaveTextContent('Could not list processes');
    expect(error).toHaveTextContent('web-1 missed two heartbeats (agent_offline)');
  });

  it('warns when the agent is offline or cannot be controlled', async () => {
    const backend = hostBackend().reply('GET', READ, {
      ...agent,
      online: false,
      controllable: false,
    });
    renderApp(backend, `${HOST}/processes`);
    expect(await screen.findByText('The agent is offline')).toBeInTheDocument();
    expect(screen.getByText('This agent cannot be controlled')).toBeInTheDocument();
  });

  it('says so when the agent is unknown', async () => {
    const backend = new FakeBackend().fail(
      'GET',
      READ,
      problem(404, 'no_such_agent', 'no agent with that id'),
    );
    renderApp(backend, `${HOST}/processes`);
    expect(await screen.findByTestId(testIds.state.error)).toHaveTextContent(
      'no agent with that id',
    );
  });

  it('refreshes the list every few seconds and keeps the last list when a refresh fails', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let calls = 0;
      const backend = new FakeBackend()
        .reply('GET', READ, agent)
        .reply('GET', EVENTS, NO_EVENTS)
        .reply('GET', `${READ}/processes`, () => {
          calls += 1;
          if (calls === 1) return { items: PROCESSES };
          if (calls === 2) return { items: [...PROCESSES, proc(555, 'newcomer', 0, 1024)] };
          throw problem(503, 'agent_offline', 'web-1 missed two heartbeats');
        });
      renderApp(backend, `${HOST}/processes`);
      await screen.findByTestId(testIds.processes.table);
      expect(screen.queryByText('newcomer')).not.toBeInTheDocument();

      await vi.advanceTimersByTimeAsync(5_000);
      expect(await screen.findByText('newcomer')).toBeInTheDocument();

      await vi.advanceTimersByTimeAsync(5_000);
      const stale = await screen.findByTestId(testIds.state.stale);
      expect(stale).toHaveTextContent('Could not refresh processes');
      expect(stale).toHaveTextContent('web-1 missed two heartbeats (agent_offline)');
      expect(pidsInTable()).toContain('555');
    } finally {
      vi.useRealTimers();
    }
  });

  it('opens the Processes tab when no tab is in the URL', async () => {
    renderApp(hostBackend(), HOST);
    expect(await screen.findByTestId(testIds.processes.table)).toBeInTheDocument();
  });
});

describe('Host page, Windows tab', () => {
  it('lists the windows with their state', async () => {
    renderApp(hostBackend(), `${HOST}/windows`);
    const table = await screen.findByTestId(testIds.windows.table);
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('Terminal');
    expect(rows[0]).toHaveTextContent('active');
    expect(rows[0]).toHaveTextContent('800×600 at 0,0');
    expect(rows[1]).toHaveTextContent('minimized');
  });

  it('sends a window action at once and shows the outcome', async () => {
    const backend = hostBackend().reply('POST', `${ACT}/windows/0x1c00007/actions`, {
      commandId: 'c-1',
      status: 'succeeded',
    });
    renderApp(backend, `${HOST}/windows`);
    await screen.findByTestId(testIds.windows.table);
    await userEvent.click(screen.getByTestId(testIds.windows.action('0x1c00007', 'restore')));
    expect(await screen.findByTestId(testIds.windows.result)).toHaveTextContent(
      'restore “Editor”: succeeded',
    );
    expect(backend.sent('POST', `${ACT}/windows/0x1c00007/actions`)[0]?.data).toEqual({
      action: 'restore',
    });
  });

  it('asks before closing a window', async () => {
    const backend = hostBackend().reply('POST', `${ACT}/windows/0x1a00003/actions`, {
      commandId: 'c-2',
      status: 'succeeded',
    });
    renderApp(backend, `${HOST}/windows`);
    await screen.findByTestId(testIds.windows.table);
    await userEvent.click(screen.getByTestId(testIds.windows.action('0x1a00003', 'close')));
    expect(backend.sent('POST', `${ACT}/windows/0x1a00003/actions`)).toHaveLength(0);
    await userEvent.click(screen.getByRole('button', { name: 'Close window' }));
    await waitFor(() =>
      expect(backend.sent('POST', `${ACT}/windows/0x1a00003/actions`)).toHaveLength(1),
    );
  });

  it('shows capability_missing when the agent cannot control windows', async () => {
    const backend = hostBackend().fail(
      'GET',
      `${READ}/windows`,
      problem(409, 'capability_missing', 'the agent does not report io.cybercorp.windows.v1'),
    );
    renderApp(backend, `${HOST}/windows`);
    expect(await screen.findByTestId(testIds.state.error)).toHaveTextContent('capability_missing');
  });

  it('says so when there are no windows', async () => {
    const backend = hostBackend().reply('GET', `${READ}/windows`, { items: [] });
    renderApp(backend, `${HOST}/windows`);
    expect(await screen.findByTestId(testIds.state.empty)).toHaveTextContent('no desktop windows');
  });
});

function event(id: string, at: string, fields: Record<string, unknown>) {
  return {
    id,
    at,
    agentId: AGENT_ID,
    actor: null,
    outcome: null,
    targetType: null,
    targetId: null,
    commandId: null,
    auditId: null,
    details: {},
    ...fields,
  };
}
// Newest first, as the API answers; the page is opened at 18:00, so the day runs from 18:00 the
// day before.
const HOST_EVENTS = [
  event('12', '2026-11-25T17:00:00Z', {
    type: 'agent.disconnected',
    details: { reason: 'closed' },
  }),
  event('11', '2026-11-25T12:00:00Z', {
    type: 'process.kill',
    actor: 'alice',
    outcome: 'succeeded',
    targetType: 'process',
    targetId: '120',
    auditId: '7',
    details: { reason: 'runaway worker' },
  }),
  event('10', '2026-11-25T06:00:00Z', {
    type: 'process.kill',
    actor: 'bob',
    outcome: 'failed',
    targetType: 'process',
    targetId: '1',
    auditId: '6',
    details: { reason: 'test', errorCode: 'protected_process' },
  }),
  event('9', '2026-11-24T18:00:00Z', {
    type: 'agent.connected',
    details: { transport: 'websocket' },
  }),
];
const OPENED_AT = new Date('2026-11-25T18:00:00Z');

describe('Host page, events', () => {
  it("asks for the agent's last day of events and marks each at its instant on the time axis", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(OPENED_AT);
    try {
      const backend = hostBackend().reply('GET', EVENTS, { items: HOST_EVENTS, nextCursor: null });
      renderApp(backend, `${HOST}/processes`);
      const table = await screen.findByTestId(testIds.events.table);

      expect(backend.sent('GET', EVENTS)[0]?.params).toEqual({
        agentId: AGENT_ID,
        since: '2026-11-24T18:00:00.000Z',
        until: '2026-11-25T18:00:00.000Z',
        limit: 500,
      });
      const left = (id: string) => screen.getByTestId(testIds.events.marker(id)).style.left;
      expect([left('9'), left('10'), left('11'), left('12')]).toEqual([
        '0%',
        '50%',
        '75%',
        `${(23 / 24) * 100}%`,
      ]);
      expect(screen.getByTestId(testIds.events.marker('11'))).toHaveAccessibleName(
        'process.kill 120 · by alice · succeeded · reason: runaway worker',
      );
      const rows = within(table).getAllByRole('row').slice(1);
      expect(rows.map((row) => within(row).getAllByRole('cell')[1]!.textContent)).toEqual([
        'agent disconnected: closed',
        'process.kill 120 · by alice · succeeded · reason: runaway worker',
        'process.kill 1 · by bob · failed (protected_process) · reason: test',
        'agent connected',
      ]);
      expect(screen.getByRole('link', { name: /Host history dashboard/ })).toHaveAttribute(
        'href',
        '/d/cybercorp-host-history/cybercorp-host-history?var-host=web-1',
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('says when the day had no events, and when only the newest page is shown', async () => {
    renderApp(hostBackend(), `${HOST}/processes`);
    expect(await screen.findByText('No events in the last 24 hours.')).toBeInTheDocument();

    const truncated = hostBackend().reply('GET', EVENTS, {
      items: HOST_EVENTS.slice(0, 2),
      nextCursor: '11',
    });
    renderApp(truncated, `${HOST}/windows`);
    expect(await screen.findByText('Only the newest 2 events are shown.')).toBeInTheDocument();
  });

  it("shows the API's error for the events and keeps the rest of the page working", async () => {
    const backend = hostBackend().fail(
      'GET',
      EVENTS,
      problem(403, 'forbidden', 'this token may not read the audit'),
    );
    renderApp(backend, `${HOST}/processes`);
    expect(await screen.findByTestId(testIds.state.error)).toHaveTextContent(
      'this token may not read the audit (forbidden)',
    );
    expect(await screen.findByTestId(testIds.processes.table)).toBeInTheDocument();
  });

  it('fetches the events again after an action, so the action shows up on the timeline', async () => {
    const backend = hostBackend().reply('POST', `${ACT}/processes/300/actions`, {
      commandId: '11111111-2222-4333-8444-555555555555',
      status: 'succeeded',
    });
    renderApp(backend, `${HOST}/processes`);
    await screen.findByTestId(testIds.processes.table);
    await waitFor(() => expect(backend.sent('GET', EVENTS)).toHaveLength(1));

    await userEvent.click(screen.getByTestId(testIds.processes.action(300, 'kill')));
    await userEvent.type(screen.getByTestId(testIds.processes.reason), 'runaway worker');
    await userEvent.click(screen.getByTestId(testIds.processes.confirm));
    await screen.findByTestId(testIds.processes.result);
    await waitFor(() => expect(backend.sent('GET', EVENTS)).toHaveLength(2));
  });
});
