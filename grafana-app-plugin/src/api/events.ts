import type { HistoryEvent } from '@cybercorp/protocol';

function detail(event: HistoryEvent, key: string): string | undefined {
  const value = event.details[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * One line per event, worded as the Host history dashboard's annotation query words it, so the
 * plugin and the dashboard describe a kill identically: what, on which target, by whom, how it
 * ended and why.
 */
export function describeEvent(event: HistoryEvent): string {
  if (event.type === 'agent.connected') {
    return 'agent connected';
  }
  if (event.type === 'agent.disconnected') {
    const reason = detail(event, 'reason');
    return reason ? `agent disconnected: ${reason}` : 'agent disconnected';
  }
  const errorCode = detail(event, 'errorCode');
  const reason = detail(event, 'reason');
  return [
    event.targetId ? `${event.type} ${event.targetId}` : event.type,
    event.actor && `by ${event.actor}`,
    event.outcome && (errorCode ? `${event.outcome} (${errorCode})` : event.outcome),
    reason && `reason: ${reason}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** Whether the event went wrong (an action failed or was refused), to mark it apart. */
export function isFailure(event: HistoryEvent): boolean {
  return event.outcome === 'failed' || event.outcome === 'denied';
}
