import { PluginPage } from '@grafana/runtime';
import { Alert, Badge, LinkButton, Tab, TabContent, TabsBar } from '@grafana/ui';
import React from 'react';
import { Navigate, Route, Routes, useLocation, useParams } from 'react-router-dom';

import { displayName, osOf } from '../../api/agents';
import { useAgent } from '../../api/hooks';
import { HOST_TABS, hostDashboardUrl, hostUrl } from '../../constants';
import { ErrorState, Loading } from '../../components/QueryState';
import { formatTime } from '../../format';
import { testIds } from '../../components/testIds';
import { EventTimeline } from './EventTimeline';
import { ProcessesTab } from './ProcessesTab';
import { WindowsTab } from './WindowsTab';

export function HostPage() {
  const { agentId = '' } = useParams();
  const { pathname } = useLocation();
  const agent = useAgent(agentId);
  const hostname = agent.data ? displayName(agent.data) : agentId;

  return (
    <PluginPage>
      <div data-testid={testIds.host.container}>
        {agent.isPending ? (
          <Loading text="Loading host…" />
        ) : agent.isError ? (
          <ErrorState title="Could not load this host" error={agent.error} />
        ) : (
          <>
            <h2>
              {hostname}{' '}
              {agent.data.online ? (
                <Badge color="green" text="online" />
              ) : (
                <Badge color="red" text="offline" />
              )}
            </h2>
            <p>
              {osOf(agent.data)} · agent <code>{agent.data.id}</code>{' '}
              <LinkButton
                href={hostDashboardUrl(hostname)}
                icon="apps"
                size="sm"
                variant="secondary"
                fill="text"
              >
                Host overview dashboard
              </LinkButton>
            </p>
            {!agent.data.online && (
              <Alert severity="warning" title="The agent is offline">
                Lists and actions fail until it reconnects. Last seen{' '}
                {formatTime(agent.data.lastSeenAt)}.
              </Alert>
            )}
            {agent.data.controllable === false && (
              <Alert severity="info" title="This agent cannot be controlled">
                It does not report the io.cybercorp.control.v1 capability: it appears in the fleet,
                but its processes and windows are not available here.
              </Alert>
            )}
            <EventTimeline agentId={agentId} hostname={hostname} />
            <TabsBar>
              <Tab
                data-testid={testIds.host.tabProcesses}
                label="Processes"
                href={hostUrl(agentId, HOST_TABS.Processes)}
                active={pathname.endsWith(`/${HOST_TABS.Processes}`)}
              />
              <Tab
                data-testid={testIds.host.tabWindows}
                label="Windows"
                href={hostUrl(agentId, HOST_TABS.Windows)}
                active={pathname.endsWith(`/${HOST_TABS.Windows}`)}
              />
            </TabsBar>
            <TabContent>
              <Routes>
                <Route
                  path={HOST_TABS.Processes}
                  element={<ProcessesTab agentId={agentId} hostname={hostname} />}
                />
                <Route
                  path={HOST_TABS.Windows}
                  element={<WindowsTab agentId={agentId} hostname={hostname} />}
                />
                <Route
                  path="*"
                  element={<Navigate replace to={hostUrl(agentId, HOST_TABS.Processes)} />}
                />
              </Routes>
            </TabContent>
          </>
        )}
      </div>
    </PluginPage>
  );
}
