import type { AuditOutcome } from '@cybercorp/protocol';
import type pg from 'pg';

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

/**
 * Only the filters given become conditions, so each filtered page is one index range walked
 * newest first: (agent_id, id), (actor, id) or (action, id), and `at` for a time range alone.
 */
export function auditListQuery(filter: AuditFilter): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const conditions: string[] = [];
  const where = (condition: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    conditions.push(condition(`$${values.length}`));
  };
  if (filter.agentId !== undefined) where((p) => `agent_id = ${p}`, filter.agentId);
  if (filter.actor !== undefined) where((p) => `actor = ${p}`, filter.actor);
  if (filter.action !== undefined) where((p) => `action = ${p}`, filter.action);
  if (filter.since !== undefined) where((p) => `at >= ${p}`, filter.since);
  if (filter.until !== undefined) where((p) => `at <= ${p}`, filter.until);
  if (filter.beforeId !== undefined) where((p) => `id < ${p}::bigint`, filter.beforeId.toString());
  values.push(filter.limit);
  const text = `SELECT id::text AS id, at, actor, action, target_type AS "targetType", target_id AS "targetId",
       agent_id AS "agentId", reason, outcome, error_code AS "errorCode", command_id AS "commandId"
  FROM audit_events${conditions.length > 0 ? `\n WHERE ${conditions.join('\n   AND ')}` : ''}
 ORDER BY audit_events.id DESC LIMIT $${values.length}`;
  return { text, values };
}
