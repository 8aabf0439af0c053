import type { AuditEvent } from '@cybercorp/protocol';
import { PluginPage } from '@grafana/runtime';
import { Badge, Button, Field, Input, useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';

import type { AuditFilter } from '../../api/client';
import { useAudit } from '../../api/hooks';
import { hostUrl } from '../../constants';
import { formatTime } from '../../format';
import { Empty, ErrorState, Loading } from '../../components/QueryState';
import { getListStyles } from '../../components/styles';
import { testIds } from '../../components/testIds';

interface Draft {
  agentId: string;
  actor: string;
  action: string;
  since: string;
  until: string;
}

const EMPTY_DRAFT: Draft = { agentId: '', actor: '', action: '', since: '', until: '' };

/** `datetime-local` values are local wall time; the API wants absolute instants. */
function toIso(local: string): string | undefined {
  if (local === '') {
    return undefined;
  }
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function toFilter(draft: Draft): AuditFilter {
  const filter: AuditFilter = {};
  if (draft.agentId.trim()) filter.agentId = draft.agentId.trim();
  if (draft.actor.trim()) filter.actor = draft.actor.trim();
  if (draft.action.trim()) filter.action = draft.action.trim();
  const since = toIso(draft.since);
  const until = toIso(draft.until);
  if (since) filter.since = since;
  if (until) filter.until = until;
  return filter;
}

const OUTCOME_COLOR: Record<AuditEvent['outcome'], 'green' | 'red' | 'orange' | 'purple'> = {
  succeeded: 'green',
  failed: 'red',
  denied: 'orange',
  // Sent to an agent that disconnected before answering: it may or may not have happened.
  unknown: 'purple',
};

export function AuditPage() {
  const styles = useStyles2(getListStyles);
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [filter, setFilter] = useState<AuditFilter>({});
  const audit = useAudit(filter);
  // Every filter is applied by the API; the pages arrive already filtered.
  const events = useMemo(() => audit.data?.pages.flatMap((page) => page.items) ?? [], [audit.data]);
  const edit = (key: keyof Draft) => (e: React.FormEvent<HTMLInputElement>) =>
    setDraft({ ...draft, [key]: e.currentTarget.value });

  return (
    <PluginPage>
      <div data-testid={testIds.audit.container}>
        <form
          className={styles.toolbar}
          onSubmit={(e) => {
            e.preventDefault();
            setFilter(toFilter(draft));
          }}
        >
          <Field label="Agent id">
            <Input
              data-testid={testIds.audit.agent}
              value={draft.agentId}
              onChange={edit('agentId')}
              width={36}
            />
          </Field>
          <Field label="Actor">
            <Input
              data-testid={testIds.audit.actor}
              value={draft.actor}
              onChange={edit('actor')}
              width={20}
            />
          </Field>
          <Field label="Action">
            <Input
              data-testid={testIds.audit.action}
              value={draft.action}
              onChange={edit('action')}
              placeholder="e.g. process.kill"
              width={20}
            />
          </Field>
          <Field label="From">
            <Input
              data-testid={testIds.audit.since}
              type="datetime-local"
              value={draft.since}
              onChange={edit('since')}
            />
          </Field>
          <Field label="To">
            <Input
              data-testid={testIds.audit.until}
              type="datetime-local"
              value={draft.until}
              onChange={edit('until')}
            />
          </Field>
          <Field label=" ">
            <Button data-testid={testIds.audit.apply} type="submit">
              Apply
            </Button>
          </Field>
        </form>
        {audit.isPending ? (
          <Loading text="Loading the audit log…" />
        ) : audit.isError ? (
          <ErrorState title="Could not load the audit log" error={audit.error} />
        ) : events.length === 0 ? (
          <Empty>No audit event matches these filters.</Empty>
        ) : (
          <table className={styles.table} data-testid={testIds.audit.table}>
            <thead>
              <tr>
                <th>When</th>
                <th>Actor</th>
                <th>Action</th>
                <th>Target</th>
                <th>Agent</th>
                <th>Reason</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id}>
                  <td className={styles.nowrap}>{formatTime(event.at)}</td>
                  <td>{event.actor}</td>
                  <td>{event.action}</td>
                  <td>
                    {event.targetType}
                    {event.targetId ? ` ${event.targetId}` : ''}
                  </td>
                  <td>
                    {event.agentId ? (
                      <Link className={styles.link} to={hostUrl(event.agentId)}>
                        {event.agentId}
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{event.reason ?? '—'}</td>
                  <td>
                    <Badge color={OUTCOME_COLOR[event.outcome] ?? 'orange'} text={event.outcome} />
                    {event.errorCode && <code> {event.errorCode}</code>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {audit.hasNextPage && (
          <div className={styles.footer}>
            <Button
              data-testid={testIds.audit.loadMore}
              variant="secondary"
              disabled={audit.isFetchingNextPage}
              onClick={() => void audit.fetchNextPage()}
            >
              Load older events
            </Button>
          </div>
        )}
      </div>
    </PluginPage>
  );
}
