import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { testIds } from '../../components/testIds';
import { FakeBackend, problem } from '../../test/fakeBackend';
import { renderApp } from '../../test/render';
import { toFilter } from './AuditPage';

vi.mock('@grafana/runtime', async () => (await import('../../test/runtimeMock')).runtimeMock);

const AUDIT = '/api/plugin-proxy/cybercorp-fleet-app/read/audit';
const PAGE = '/a/cybercorp-fleet-app/audit';

type AuditParams = Record<string, string | number | undefined>;

function event(id: number, overrides: Record<string, unknown> = {}) {
  return {
    id,
    at: '2026-11-25T18:00:00Z',
    actor: 'alice',
    action: 'process.terminate',
    targetType: 'process',
    targetId: '4242',
    agentId: 'agent-1',
    reason: 'runaway worker',
    outcome: 'succeeded',
    errorCode: null,
    commandId: null,
    ...overrides,
  };
}

describe('AuditPage', () => {
  it('lists who did what, why and with what outcome', async () => {
    const backend = new FakeBackend().reply('GET', AUDIT, {
      items: [
        event(2),
        event(1, {
          actor: 'bob',
          action: 'process.kill',
          outcome: 'denied',
          errorCode: 'protected_process',
          reason: null,
        }),
      ],
    });
    renderApp(backend, PAGE);
    expect(screen.getByTestId(testIds.state.loading)).toBeInTheDocument();
    const rows = within(await screen.findByTestId(testIds.audit.table))
      .getAllByRole('row')
      .slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('alice');
    expect(rows[0]).toHaveTextContent('process 4242');
    expect(rows[0]).toHaveTextContent('runaway worker');
    expect(rows[0]).toHaveTextContent('succeeded');
    expect(within(rows[0]!).getByRole('link', { name: 'agent-1' })).toHaveAttribute(
      'href',
      '/a/cybercorp-fleet-app/hosts/agent-1/processes',
    );
    expect(rows[1]).toHaveTextContent('denied');
    expect(rows[1]).toHaveTextContent('protected_process');
  });

  it('sends the filters when applied, not on every keystroke', async () => {
    const backend = new FakeBackend().reply('GET', AUDIT, (request: { params?: AuditParams }) =>
      request.params?.action === undefined ? { items: [event(1)] } : { items: [] },
    );
    renderApp(backend, PAGE);
    await screen.findByTestId(testIds.audit.table);
    await userEvent.type(screen.getByTestId(testIds.audit.actor), 'alice');
    await userEvent.type(screen.getByTestId(testIds.audit.agent), 'agent-1');
    await userEvent.type(screen.getByTestId(testIds.audit.action), 'process.kill');
    expect(backend.sent('GET', AUDIT)).toHaveLength(1);

    await userEvent.click(screen.getByTestId(testIds.audit.apply));
    await vi.waitFor(() => expect(backend.sent('GET', AUDIT)).toHaveLength(2));
    const requests = backend.sent('GET', AUDIT);
    // The API answers the filtered list: here, no process.kill.
    expect(await screen.findByTestId(testIds.state.empty)).toBeInTheDocument();
    expect(requests[1]?.params).toEqual({
      actor: 'alice',
      agentId: 'agent-1',
      action: 'process.kill',
      limit: 100,
    });
    expect(screen.getByTestId(testIds.state.empty)).toHaveTextContent('No audit event matches');
  });

  it('shows the page the API filtered by action and time, and pages that list with the cursor', async () => {
    const filtered = (params: AuditParams) =>
      params.cursor === 'older-kills'
        ? { items: [event(2, { action: 'process.kill', actor: 'carol' })] }
        : { items: [event(5, { action: 'process.kill' })], nextCursor: 'older-kills' };
    const backend = new FakeBackend().reply('GET', AUDIT, (request: { params?: AuditParams }) =>
      request.params?.action === 'process.kill'
        ? filtered(request.params)
        : { items: [event(6, { action: 'window.close' }), event(5, { action: 'process.kill' })] },
    );
    renderApp(backend, PAGE);
    await screen.findByTestId(testIds.audit.table);
    await userEvent.type(screen.getByTestId(testIds.audit.action), 'process.kill');
    fireEvent.change(screen.getByTestId(testIds.audit.since), {
      target: { value: '2026-11-25T10:00' },
    });
    fireEvent.change(screen.getByTestId(testIds.audit.until), {
      target: { value: '2026-11-25T20:00' },
    });
    await userEvent.click(screen.getByTestId(testIds.audit.apply));
    await userEvent.click(await screen.findByTestId(testIds.audit.loadMore));
    expect(await screen.findByText('carol')).toBeInTheDocument();

    const rows = within(screen.getByTestId(testIds.audit.table)).getAllByRole('row').slice(1);
    expect(rows.map((row) => row.textContent)).toEqual([
      expect.stringContaining('process.kill'),
      expect.stringContaining('process.kill'),
    ]);
    const filter = {
      action: 'process.kill',
      since: new Date('2026-11-25T10:00').toISOString(),
      until: new Date('2026-11-25T20:00').toISOString(),
      limit: 100,
    };
    expect(backend.sent('GET', AUDIT).map((r) => r.params)).toEqual([
      { limit: 100 },
      filter,
      { ...filter, cursor: 'older-kills' },
    ]);
  });

  it('turns the local time range into ISO instants', () => {
    const filter = toFilter({
      agentId: ' ',
      actor: '',
      action: '',
      since: '2026-11-25T10:00',
      until: 'nonsense',
    });
    expect(filter).toEqual({ since: new Date('2026-11-25T10:00').toISOString() });
  });

  it('pages back through older events with the cursor', async () => {
    const backend = new FakeBackend().reply(
      'GET',
      AUDIT,
      (request: { params?: { cursor?: string } }) =>
        request.params?.cursor === 'older'
          ? { items: [event(1, { actor: 'carol' })] }
          : { items: [event(2)], nextCursor: 'older' },
    );
    renderApp(backend, PAGE);
    await userEvent.click(await screen.findByTestId(testIds.audit.loadMore));
    expect(await screen.findByText('carol')).toBeInTheDocument();
    expect(within(screen.getByTestId(testIds.audit.table)).getAllByRole('row')).toHaveLength(3);
    expect(screen.queryByTestId(testIds.audit.loadMore)).not.toBeInTheDocument();
  });

  it('says so when nothing matches', async () => {
    renderApp(new FakeBackend().reply('GET', AUDIT, { items: [] }), PAGE);
    expect(await screen.findByTestId(testIds.state.empty)).toHaveTextContent(
      'No audit event matches',
    );
  });

  it("shows the API's detail when the audit log is not readable", async () => {
    const backend = new FakeBackend().fail(
      'GET',
      AUDIT,
      problem(403, 'forbidden', 'the read token lacks audit:read'),
    );
    renderApp(backend, PAGE);
    const error = await screen.findByTestId(testIds.state.error);
    expect(error).toHaveTextContent('the read token lacks audit:read (forbidden)');
  });
});
