import type { AuditOutcome } from '@cybercorp/protocol';
import type pg from 'pg';
import { newestFirstQuery } from './keyset-query.js';

export type { AuditOutcome };

export interface AuditEvent {
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  agentId: string | null;
  reason: string | null;
  outcome: AuditOutcome;
  errorCode: string | null;
  commandId: string | null;
  at: Date;
}

export interface AuditRow extends AuditEvent {
  id: string;
}

export class AuditRepository {
  constructor(private readonly db: pg.Pool) {}

  async append(e: AuditEvent): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_events (at, actor, action, target_type, target_id, agent_id, reason, outcome, error_code, command_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        e.at,
        e.actor,
        e.action,
        e.targetType,
        e.targetId,
        e.agentId,
        e.reason,
        e.outcome,
        e.errorCode,
        e.commandId,
      ],
    );
  }

  /** Newest first; `beforeId` is the keyset cursor (the last id of the previous page). */
  async list(filter: AuditFilter): Promise<AuditRow[]> {
    const { text, values } = auditListQuery(filter);
    const { rows } = await this.db.query<AuditRow>(text, values);
    return rows;
  }
}

export interface AuditFilter {
  agentId?: string;
  actor?: string;
  action?: string;
  /** Inclusive bounds of `at`. */
  since?: Date;
  until?: Date;
  beforeId?: bigint;
  limit: number;
}

/** The audit page query; its filters use (agent_id, id), (actor, id), (action, id) or (at, id). */
export function auditListQuery(filter: AuditFilter): { text: string; values: unknown[] } {
  return newestFirstQuery(
    'audit_events',
    `id::text AS id, at, actor, action, target_type AS "targetType", target_id AS "targetId",
       agent_id AS "agentId", reason, outcome, error_code AS "errorCode", command_id AS "commandId"`,
    [
      ['agent_id', '=', filter.agentId],
      ['actor', '=', filter.actor],
      ['action', '=', filter.action],
      ['at', '>=', filter.since],
      ['at', '<=', filter.until],
    ],
    filter,
  );
}
