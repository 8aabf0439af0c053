import type { ProcessAction, ProcessInfo } from '@cybercorp/protocol';
import { Button, Input, useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';

import { useProcessAction, useProcesses } from '../../api/hooks';
import { PROCESS_ACTIONS } from '../../api/actions';
import { ActionResult } from '../../components/ActionResult';
import { ConfirmProcessAction } from '../../components/ConfirmProcessAction';
import { Empty, ErrorState, Loading, RefreshError } from '../../components/QueryState';
import { getListStyles } from '../../components/styles';
import { testIds } from '../../components/testIds';
import { formatBytes, formatPercent, formatTime } from '../../format';
import {
  DEFAULT_SORT,
  filterProcesses,
  nextSort,
  type ProcessSort,
  type ProcessSortKey,
  sortProcesses,
} from './sortProcesses';

const COLUMNS: Array<{ key: ProcessSortKey; label: string; numeric: boolean }> = [
  { key: 'pid', label: 'PID', numeric: true },
  { key: 'name', label: 'Name', numeric: false },
  { key: 'cpuPercent', label: 'CPU', numeric: true },
  { key: 'memoryBytes', label: 'Memory', numeric: true },
];

function ariaSort(sort: ProcessSort, key: ProcessSortKey): 'ascending' | 'descending' | 'none' {
  if (sort.key !== key) {
    return 'none';
  }
  return sort.direction === 'asc' ? 'ascending' : 'descending';
}

interface Pending {
  process: ProcessInfo;
  action: ProcessAction;
}

export function ProcessesTab({ agentId, hostname }: { agentId: string; hostname: string }) {
  const styles = useStyles2(getListStyles);
  const processes = useProcesses(agentId);
  const act = useProcessAction(agentId);
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState(DEFAULT_SORT);
  const [pending, setPending] = useState<Pending | null>(null);
  const [lastLabel, setLastLabel] = useState('');

  const rows = useMemo(
    () => sortProcesses(filterProcesses(processes.data ?? [], filter), sort),
    [processes.data, filter, sort],
  );

  const confirm = (reason: string) => {
    if (!pending) {
      return;
    }
    const { process, action } = pending;
    setLastLabel(`${action} ${process.name} (pid ${process.pid})`);
    act.mutate(
      { pid: process.pid, startedAt: process.startedAt, action, reason },
      { onSettled: () => setPending(null) },
    );
  };

  return (
    <div>
      <ActionResult
        label={lastLabel}
        outcome={act.data}
        error={act.error}
        testId={testIds.processes.result}
        onDismiss={() => act.reset()}
      />
      <div className={styles.toolbar}>
        <Input
          data-testid={testIds.processes.filter}
          placeholder="Filter by pid, name, user or command"
          value={filter}
          onChange={(e) => setFilter(e.currentTarget.value)}
          width={48}
        />
      </div>
      {processes.isError && processes.data !== undefined && (
        <RefreshError
          what="processes"
          error={processes.error}
          updatedAt={processes.dataUpdatedAt}
        />
      )}
      {processes.isPending ? (
        <Loading text="Asking the agent for its processes…" />
      ) : processes.isError && processes.data === undefined ? (
        <ErrorState title="Could not list processes" error={processes.error} />
      ) : rows.length === 0 ? (
        <Empty>
          {filter ? `No process matches “${filter}”.` : 'The agent reported no processes.'}
        </Empty>
      ) : (
        <table className={styles.table} data-testid={testIds.processes.table}>
          <thead>
            <tr>
              {COLUMNS.map((column) => (
                <th
                  key={column.key}
                  className={column.numeric ? styles.numeric : undefined}
                  aria-sort={ariaSort(sort, column.key)}
                >
                  <Button
                    data-testid={testIds.processes.sortBy(column.key)}
                    size="sm"
                    fill="text"
                    icon={
                      sort.key === column.key
                        ? sort.direction === 'asc'
                          ? 'arrow-up'
                          : 'arrow-down'
                        : undefined
                    }
                    onClick={() => setSort(nextSort(sort, column.key))}
                  >
                    {column.label}
                  </Button>
                </th>
              ))}
              <th>User</th>
              <th>State</th>
              <th>Started</th>
              <th>Command</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((process) => (
              <tr key={process.pid}>
                <td className={styles.numeric}>{process.pid}</td>
                <td>{process.name}</td>
                <td className={styles.numeric}>{formatPercent(process.cpuPercent)}</td>
                <td className={styles.numeric}>{formatBytes(process.memoryBytes)}</td>
                <td>{process.user}</td>
                <td>{process.state}</td>
                <td className={styles.nowrap}>{formatTime(process.startedAt)}</td>
                <td className={styles.command} title={process.command}>
                  {process.command}
                </td>
                <td>
                  <div className={styles.actions}>
                    {PROCESS_ACTIONS.map((action) => (
                      <Button
                        key={action}
                        data-testid={testIds.processes.action(process.pid, action)}
                        size="sm"
                        variant={
                          action === 'kill' || action === 'terminate' ? 'destructive' : 'secondary'
                        }
                        fill="outline"
                        onClick={() => setPending({ process, action })}
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
      {pending && (
        <ConfirmProcessAction
          process={pending.process}
          action={pending.action}
          hostname={hostname}
          busy={act.isPending}
          onConfirm={confirm}
          onDismiss={() => setPending(null)}
        />
      )}
    </div>
  );
}
