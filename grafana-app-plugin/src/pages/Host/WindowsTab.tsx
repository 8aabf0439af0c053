import type { WindowAction, WindowInfo } from '@cybercorp/protocol';
import { Badge, Button, ConfirmModal, useStyles2 } from '@grafana/ui';
import React, { useState } from 'react';

import { useWindowAction, useWindows } from '../../api/hooks';
import { WINDOW_ACTIONS } from '../../api/actions';
import { ActionResult } from '../../components/ActionResult';
import { Empty, ErrorState, Loading, RefreshError } from '../../components/QueryState';
import { getListStyles } from '../../components/styles';
import { testIds } from '../../components/testIds';

function stateOf(window: WindowInfo): React.ReactNode {
  if (window.minimized) {
    return <Badge color="blue" text="minimized" />;
  }
  if (window.maximized) {
    return <Badge color="purple" text="maximized" />;
  }
  return window.active ? (
    <Badge color="green" text="active" />
  ) : (
    <Badge color="orange" text="normal" />
  );
}

export function WindowsTab({ agentId, hostname }: { agentId: string; hostname: string }) {
  const styles = useStyles2(getListStyles);
  const windows = useWindows(agentId);
  const act = useWindowAction(agentId);
  const [closing, setClosing] = useState<WindowInfo | null>(null);
  const [lastLabel, setLastLabel] = useState('');

  const run = (window: WindowInfo, action: WindowAction) => {
    setLastLabel(`${action} “${window.title}”`);
    act.mutate({ windowId: window.id, action });
  };

  return (
    <div>
      <ActionResult
        label={lastLabel}
        outcome={act.data}
        error={act.error}
        testId={testIds.windows.result}
        onDismiss={() => act.reset()}
      />
      {windows.isError && windows.data !== undefined && (
        <RefreshError what="windows" error={windows.error} updatedAt={windows.dataUpdatedAt} />
      )}
      {windows.isPending ? (
        <Loading text="Asking the agent for its windows…" />
      ) : windows.isError && windows.data === undefined ? (
        <ErrorState title="Could not list windows" error={windows.error} />
      ) : (windows.data ?? []).length === 0 ? (
        <Empty>The agent reported no desktop windows.</Empty>
      ) : (
        <table className={styles.table} data-testid={testIds.windows.table}>
          <thead>
            <tr>
              <th>Title</th>
              <th>PID</th>
              <th>State</th>
              <th>Position and size</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {(windows.data ?? []).map((window) => (
              <tr key={window.id}>
                <td>{window.title || <em>untitled</em>}</td>
                <td className={styles.numeric}>{window.pid ?? '—'}</td>
                <td>{stateOf(window)}</td>
                <td>
                  {window.bounds.width}×{window.bounds.height} at {window.bounds.x},
                  {window.bounds.y}
                </td>
                <td>
                  <div className={styles.actions}>
                    {WINDOW_ACTIONS.map((action) => (
                      <Button
                        key={action}
                        data-testid={testIds.windows.action(window.id, action)}
                        size="sm"
                        variant={action === 'close' ? 'destructive' : 'secondary'}
                        fill="outline"
                        disabled={act.isPending}
                        onClick={() =>
                          action === 'close' ? setClosing(window) : run(window, action)
                        }
                      >
                        {action}
                      </Button>
                    ))}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {closing && (
        <ConfirmModal
          isOpen
          title="Close window?"
          body={`Close “${closing.title}” on ${hostname}? The application may lose unsaved work.`}
          confirmText="Close window"
          onConfirm={() => {
            run(closing, 'close');
            setClosing(null);
          }}
          onDismiss={() => setClosing(null)}
        />
      )}
    </div>
  );
}
