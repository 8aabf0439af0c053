import type pg from 'pg';

export type AuditOutcome = 'succeeded' | 'failed' | 'denied';

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
  async list(filter: {
    agentId?: string;
    actor?: string;
    beforeId?: bigint;
    limit: number;
  }): Promise<AuditRow[]> {
    const { rows } = await this.db.query<AuditRow>(
      `SELECT id::text AS id, at, actor, action, target_type AS "targetType", target_id AS "targetId",
              agent_id AS "agentId", reason, outcome, error_code AS "errorCode", command_id AS "commandId"
         FROM audit_events
        WHERE ($1::text IS NULL OR agent_id = $1)
          AND ($2::text IS NULL OR actor = $2)
          AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [
        filter.agentId ?? null,
        filter.actor ?? null,
        filter.beforeId?.toString() ?? null,
        filter.limit,
      ],
    );
    return rows;
  }
}
