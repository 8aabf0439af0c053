import { css } from '@emotion/css';
import type { HistoryEvent } from '@cybercorp/protocol';
import type { GrafanaTheme2 } from '@grafana/data';
import { LinkButton, useStyles2 } from '@grafana/ui';
import React from 'react';

import { describeEvent, isFailure } from '../../api/events';
import { useEvents } from '../../api/hooks';
import { ErrorState, Loading } from '../../components/QueryState';
import { getListStyles } from '../../components/styles';
import { testIds } from '../../components/testIds';
import { EVENTS_WINDOW_MS, hostHistoryDashboardUrl } from '../../constants';
import { formatTime } from '../../format';

/** Where `at` falls on the axis from `since` to `until`, in percent (clamped to the axis). */
export function axisPosition(at: string, since: Date, until: Date): number {
  const span = until.getTime() - since.getTime();
  const offset = new Date(at).getTime() - since.getTime();
  return span <= 0 ? 100 : Math.min(100, Math.max(0, (offset / span) * 100));
}

const getStyles = (theme: GrafanaTheme2) => ({
  axis: css({
    position: 'relative',
    height: theme.spacing(3),
    margin: theme.spacing(1, 0, 0.5),
    borderBottom: `1px solid ${theme.colors.border.medium}`,
  }),
  marker: css({
    position: 'absolute',
    bottom: 0,
    width: 3,
    height: '100%',
    marginLeft: -1,
    background: theme.colors.warning.main,
  }),
  failure: css({ background: theme.colors.error.main }),
  // A busy day must not push the host's processes off the screen.
  list: css({ maxHeight: 240, overflowY: 'auto', marginBottom: theme.spacing(2) }),
  ticks: css({
    display: 'flex',
    justifyContent: 'space-between',
    color: theme.colors.text.secondary,
    fontSize: theme.typography.bodySmall.fontSize,
    marginBottom: theme.spacing(1),
  }),
});

/**
 * The host's events of the last day on a time axis (one marker per event, at its instant) and
 * listed newest first: the same events the Host history dashboard draws as annotations on its
 * charts, so a CPU drop there lines up with the kill listed here.
 */
export function EventTimeline({ agentId, hostname }: { agentId: string; hostname: string }) {
  const styles = useStyles2(getStyles);
  const list = useStyles2(getListStyles);
  const events = useEvents(agentId, EVENTS_WINDOW_MS);

  return (
    <section data-testid={testIds.events.container}>
      <h3>
        Events, last 24 hours{' '}
        <LinkButton
          href={hostHistoryDashboardUrl(hostname)}
          icon="chart-line"
          size="sm"
          variant="secondary"
          fill="text"
        >
          Host history dashboard
        </LinkButton>
      </h3>
      {events.isPending ? (
        <Loading text="Loading events…" />
      ) : events.isError ? (
        <ErrorState title="Could not load the host's events" error={events.error} />
      ) : (
        <>
          <div className={styles.axis} data-testid={testIds.events.axis}>
            {events.data.items.map((event: HistoryEvent) => (
              <span
                key={event.id}
                data-testid={testIds.events.marker(event.id)}
                className={isFailure(event) ? `${styles.marker} ${styles.failure}` : styles.marker}
                style={{ left: `${axisPosition(event.at, events.data.since, events.data.until)}%` }}
                title={`${formatTime(event.at)} ${describeEvent(event)}`}
                aria-label={describeEvent(event)}
                role="img"
              />
            ))}
          </div>
          <div className={styles.ticks}>
            <span>{formatTime(events.data.since.toISOString())}</span>
            <span>{formatTime(events.data.until.toISOString())}</span>
          </div>
          {events.data.items.length === 0 ? (
            <p>No events in the last 24 hours.</p>
          ) : (
            <div className={styles.list}>
              <table className={list.table} data-testid={testIds.events.table}>
                <thead>
                  <tr>
                    <th>Time</th>
                    <th>Event</th>
                  </tr>
                </thead>
                <tbody>
                  {events.data.items.map((event: HistoryEvent) => (
                    <tr key={event.id}>
                      <td className={list.nowrap}>{formatTime(event.at)}</td>
                      <td>{describeEvent(event)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {events.data.truncated && (
            <p>Only the newest {events.data.items.length} events are shown.</p>
          )}
        </>
      )}
    </section>
  );
}
