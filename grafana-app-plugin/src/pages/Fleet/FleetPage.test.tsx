import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { testIds } from '../../components/testIds';
import { FakeBackend, problem } from '../../test/fakeBackend';
import { renderApp } from '../../test/render';

vi.mock('@grafana/runtime', async () => (await import('../../test/runtimeMock')).runtimeMock);

const AGENTS = '/api/plugin-proxy/cybercorp-fleet-app/read/agents';

const web1 = {
  id: '0190a1b2-0000-7000-8000-000000000001',
  hostname: 'web-1',
  online: true,
  lastSeenAt: '2026-11-25T18:00:00Z',
  capabilities: ['io.cybercorp.control.v1'],
  identifyingAttributes: { 'host.name': 'web-1' },
  resourceAttributes: { 'host.name': 'web-1', 'os.type': 'linux' },
};
const db1 = {
  id: '0190a1b2-0000-7000-8000-000000000002',
  hostname: 'db-1',
  online: false,
  lastSeenAt: '2026-11-25T17:00:00Z',
  capabilities: [],
  resourceAttributes: { 'os.type': 'windows' },
};

describe('FleetPage', () => {
  it('shows a loading state until the agents arrive, then one row per agent', async () => {
    const backend = new FakeBackend().reply('GET', AGENTS, { items: [web1, db1] });
    renderApp(backend, '/a/cybercorp-fleet-app/fleet');
    expect(screen.getByTestId(testIds.state.loading)).toBeInTheDocument();

    const table = await screen.findByTestId(testIds.fleet.table);
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByRole('link', { name: 'web-1' })).toHaveAttribute(
      'href',
      `/a/cybercorp-fleet-app/hosts/${web1.id}/processes`,
    );
    expect(rows[0]).toHaveTextContent('online');
    expect(rows[0]).toHaveTextContent('linux');
    expect(rows[0]).toHaveTextContent('io.cybercorp.control.v1');
    expect(rows[1]).toHaveTextContent('offline');
    expect(rows[1]).toHaveTextContent('windows');
  });

  it('filters the table by what is typed, and says when nothing matches', async () => {
    const backend = new FakeBackend().reply('GET', AGENTS, { items: [web1, db1] });
    renderApp(backend, '/a/cybercorp-fleet-app/fleet');
    await screen.findByTestId(testIds.fleet.table);

    await userEvent.type(screen.getByTestId(testIds.fleet.filter), 'db');
    const rows = within(screen.getByTestId(testIds.fleet.table)).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getByRole('link').textContent)).toEqual(['db-1']);

    await userEvent.type(screen.getByTestId(testIds.fleet.filter), '-nothing');
    expect(screen.getByTestId(testIds.state.empty)).toHaveTextContent('No agent matches');
  });

  it('says so when no agent has connected yet', async () => {
    const backend = new FakeBackend().reply('GET', AGENTS, { items: [] });
    renderApp(backend, '/a/cybercorp-fleet-app/fleet');
    expect(await screen.findByTestId(testIds.state.empty)).toHaveTextContent(
      'No agent has connected',
    );
  });

  it("shows the API's problem detail and code when the list fails", async () => {
    const backend = new FakeBackend().fail(
      'GET',
      AGENTS,
      problem(503, 'service_unavailable', 'database unreachable'),
    );
    renderApp(backend, '/a/cybercorp-fleet-app/fleet');
    const error = await screen.findByTestId(testIds.state.error);
    expect(error).toHaveTextContent('Could not load the fleet');
    expect(error).toHaveTextContent('database unreachable');
    expect(error).toHaveTextContent('service_unavailable');
  });

  it('loads the next page with the cursor the API gave', async () => {
    const backend = new FakeBackend().reply(
      'GET',
      AGENTS,
      (request: { params?: { cursor?: string } }) =>
        request.params?.cursor === 'page-2'
          ? { items: [db1] }
          : { items: [web1], nextCursor: 'page-2' },
    );
    renderApp(backend, '/a/cybercorp-fleet-app/fleet');
    await userEvent.click(await screen.findByTestId(testIds.fleet.loadMore));
    expect(await screen.findByRole('link', { name: 'db-1' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'web-1' })).toBeInTheDocument();
    expect(screen.queryByTestId(testIds.fleet.loadMore)).not.toBeInTheDocument();
  });
});
