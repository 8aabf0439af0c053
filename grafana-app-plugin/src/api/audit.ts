import type { AuditEvent, AuditFilter } from './types';

/**
 * Whether an event passes every filter. The API filters by agent and actor; action and time
 * range are checked here, on each page as it arrives, so a filter is never silently ignored.
 */
export function matchesAuditFilter(event: AuditEvent, filter: AuditFilter): boolean {
  if (filter.agentId && event.agentId !== filter.agentId) {
    return false;
  }
  if (filter.actor && event.actor !== filter.actor) {
    return false;
  }
  if (filter.action && !event.action.toLowerCase().includes(filter.action.toLowerCase())) {
    return false;
  }
  const at = Date.parse(event.at);
  if (filter.since && !(at >= Date.parse(filter.since))) {
    return false;
  }
  if (filter.until && !(at <= Date.parse(filter.until))) {
    return false;
  }
  return true;
}
