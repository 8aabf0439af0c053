import { describe, expect, it } from 'vitest';

import { matchesAuditFilter } from './audit';
import type { AuditEvent } from './types';

const event: AuditEvent = {
  id: '7',
  at: '2026-11-25T12:00:00.000Z',
  actor: 'alice',
  action: 'process.kill',
  targetType: 'process',
  targetId: '4242',
  agentId: 'agent-1',
  reason: 'stuck',
  outcome: 'succeeded',
  errorCode: null,
  commandId: null,
};

describe('matchesAuditFilter', () => {
  it('passes everything without filters', () => {
    expect(matchesAuditFilter(event, {})).toBe(true);
  });

  it('matches agent and actor exactly', () => {
    expect(matchesAuditFilter(event, { agentId: 'agent-1', actor: 'alice' })).toBe(true);
    expect(matchesAuditFilter(event, { agentId: 'agent-2' })).toBe(false);
    expect(matchesAuditFilter(event, { actor: 'ali' })).toBe(false);
  });

  it('matches a part of the action, ignoring case', () => {
    expect(matchesAuditFilter(event, { action: 'KILL' })).toBe(true);
    expect(matchesAuditFilter(event, { action: 'window.' })).toBe(false);
  });

  it('keeps events inside the time range, bounds included', () => {
    expect(matchesAuditFilter(event, { since: event.at, until: event.at })).toBe(true);
    expect(matchesAuditFilter(event, { since: '2026-11-25T12:00:01.000Z' })).toBe(false);
    expect(matchesAuditFilter(event, { until: '2026-11-25T11:59:59.000Z' })).toBe(false);
  });
});
