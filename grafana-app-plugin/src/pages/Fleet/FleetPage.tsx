import type { Agent } from '@cybercorp/protocol';
import { PluginPage } from '@grafana/runtime';
import { Badge, Button, Input, useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';

import { displayName, osOf } from '../../api/agents';
import { useAgents } from '../../api/hooks';
import { hostUrl } from '../../constants';
import { formatTime } from '../../format';
import { Empty, ErrorState, Loading } from '../../components/QueryState';
import { getListStyles } from '../../components/styles';
import { testIds } from '../../components/testIds';

function matches(agent: Agent, needle: string): boolean {
  if (needle === '') {
    return true;
  }
  const haystack = [displayName(agent), agent.id, osOf(agent), ...agent.capabilities]
    .join(' ')
    .toLowerCase();
  return haystack.includes(needle);
}

export function FleetPage() {
  const styles = useStyles2(getListStyles);
  const [filter, setFilter] = useState('');
  const agents = useAgents();
  const all = useMemo(() => agents.data?.pages.flatMap((page) => page.items) ?? [], [agents.data]);
  const needle = filter.trim().toLowerCase();
  const shown = all.filter((agent) => matches(agent, needle));

  return (
    <PluginPage>
      <div data-testid={testIds.fleet.container}>
        <div className={styles.toolbar}>
          <Input
            data-testid={testIds.fleet.filter}
            placeholder="Filter by host, id, OS or capability"
            value={filter}
            onChange={(e) => setFilter(e.currentTarget.value)}
            width={48}
          />
        </div>
        {agents.isPending ? (
          <Loading text="Loading agents…" />
        ) : agents.isError ? (
          <ErrorState title="Could not load the fleet" error={agents.error} />
        ) : all.length === 0 ? (
          <Empty>No agent has connected to the control API yet.</Empty>
        ) : shown.length === 0 ? (
          <Empty>No agent matches “{filter}”.</Empty>
        ) : (
          <table className={styles.table} data-testid={testIds.fleet.table}>
            <thead>
              <tr>
                <th>Host</th>
                <th>Status</th>
                <th>OS</th>
                <th>Last seen</th>
                <th>Capabilities</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((agent) => (
                <tr key={agent.id}>
                  <td>
                    <Link className={styles.link} to={hostUrl(agent.id)}>
                      {displayName(agent)}
                    </Link>
                  </td>
                  <td>
                    {agent.online ? (
                      <Badge color="green" text="online" />
                    ) : (
                      <Badge color="red" text="offline" />
                    )}
                  </td>
                  <td>{osOf(agent)}</td>
                  <td className={styles.nowrap}>{formatTime(agent.lastSeenAt)}</td>
                  <td>{agent.capabilities.join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {agents.hasNextPage && (
          <div className={styles.footer}>
            <Button
              data-testid={testIds.fleet.loadMore}
              variant="secondary"
              disabled={agents.isFetchingNextPage}
              onClick={() => void agents.fetchNextPage()}
            >
              Load more agents
            </Button>
          </div>
        )}
      </div>
    </PluginPage>
  );
}
