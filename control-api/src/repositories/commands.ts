import type { CommandStatus } from '@cybercorp/protocol';
import type pg from 'pg';
import type { AuditEvent } from './audit.js';

export type { CommandStatus };

export interface CommandRow {
  id: string;
  agentId: string;
  type: string;
  target: string | null;
  action: string | null;
  reason: string | null;
  actor: string;
  status: CommandStatus;
  errorCode: string | null;
  errorMessage: string | null;
  result: unknown;
  createdAt: Date;
  deadlineAt: Date;
  finishedAt: Date | null;
}

const COLUMNS = `id, agent_id AS "agentId", type, target, action, reason, actor, status,
  error_code AS "errorCode", error_message AS "errorMessage", result, created_at AS "createdAt",
  deadline_at AS "deadlineAt", finished_at AS "finishedAt"`;

/** A command as it is sent: what, to whom, by whom, and until when. */
export interface CommandStart {
  id: string;
  agentId: string;
  type: string;
  target: string | null;
  action: string | null;
  reason: string | null;
  actor: string;
  createdAt: Date;
  deadlineAt: Date;
}

/** The one outcome of a command. */
export interface CommandOutcome {
  status: Exclude<CommandStatus, 'pending'>;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  result?: unknown;
  finishedAt: Date;
}

const jsonOrNull = (result: unknown) => (result === undefined ? null : JSON.stringify(result));

/**
 * Hot statements are named, so each pooled connection parses and plans them once. Every
 * write here is one statement, hence one transaction and one commit, and takes many rows, so
 * concurrent commands can share it (see BatchWriter).
 */
export class CommandRepository {
  constructor(private readonly db: pg.Pool) {}

  /**
   * Ends, as `unknown`, the actions still pending whose deadline passed before `deadlineBefore`:
   * the instance that sent them stopped before it could record their end (a live instance ends
   * every command by its deadline). One statement writes the outcome and its audit event, and is
   * guarded on `pending` like finishAudited, so two instances sweeping at once record each once.
   * Returns the ids it ended.
   */
  async expireOrphaned(
    deadlineBefore: Date,
    outcome: { errorCode: string; errorMessage: string; finishedAt: Date },
    limit = 1000,
  ): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>({
      name: 'commands.expire-orphaned',
      text: `WITH orphans AS (
               SELECT id FROM commands
                WHERE status = 'pending' AND deadline_at < $1
                ORDER BY deadline_at LIMIT $5
                  FOR UPDATE SKIP LOCKED
             ), ended AS (
               UPDATE commands c
                  SET status = 'unknown', error_code = $2, error_message = $3, finished_at = $4
                 FROM orphans o
                WHERE c.id = o.id AND c.status = 'pending'
            RETURNING c.*)
             INSERT INTO audit_events (at, actor, action, target_type, target_id, agent_id, reason,
                                       outcome, error_code, command_id)
             SELECT $4, e.actor,
                    split_part(e.type, '.', 1) || '.' || coalesce(e.action, split_part(e.type, '.', 2)),
                    split_part(e.type, '.', 1), e.target, e.agent_id, e.reason, 'unknown', $2, e.id
               FROM ended e
             RETURNING command_id AS id`,
      values: [deadlineBefore, outcome.errorCode, outcome.errorMessage, outcome.finishedAt, limit],
    });
    return rows.map((r) => r.id);
  }

  /** For actions: the rows exist, durably, before the agent is asked to act. */
  async insertPending(commands: readonly CommandStart[]): Promise<void> {
    if (commands.length === 0) return;
    const column = <T>(pick: (c: CommandStart) => T) => commands.map(pick);
    await this.db.query({
      name: 'commands.insert-pending',
      text: `INSERT INTO commands (id, agent_id, type, target, action, reason, actor, status,
                                   created_at, deadline_at)
             SELECT id, agent_id, type, target, action, reason, actor, 'pending', created_at,
                    deadline_at
               FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                           $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[])
                 AS c(id, agent_id, type, target, action, reason, actor, created_at, deadline_at)`,
      values: [
        column((c) => c.id),
        column((c) => c.agentId),
        column((c) => c.type),
        column((c) => c.target),
        column((c) => c.action),
        column((c) => c.reason),
        column((c) => c.actor),
        column((c) => c.createdAt),
        column((c) => c.deadlineAt),
      ],
    });
  }

  /**
   * Records each action's one outcome together with its audit event, in one statement: both
   * are written or neither. Guarded on `pending`, so a late result after a timeout (or a
   * second instance racing) cannot overwrite it; answers, per command, whether this call
   * recorded it.
   */
  async finishAudited(
    finished: readonly { id: string; outcome: CommandOutcome; audit: AuditEvent }[],
  ): Promise<boolean[]> {
    if (finished.length === 0) return [];
    const column = <T>(pick: (f: (typeof finished)[number]) => T) => finished.map(pick);
    const { rows } = await this.db.query<{ id: string }>({
      name: 'commands.finish-audited',
      text: `WITH input AS (
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[],
                                    $6::timestamptz[], $7::timestamptz[], $8::text[], $9::text[],
                                    $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                                    $15::text[])
                 AS i(id, status, error_code, error_message, result, finished_at, at, actor,
                      action, target_type, target_id, agent_id, reason, outcome, audit_error_code)
             ), finished AS (
               UPDATE commands c
                  SET status = i.status, error_code = i.error_code, error_message = i.error_message,
                      result = i.result, finished_at = i.finished_at
                 FROM input i
                WHERE c.id = i.id AND c.status = 'pending'
            RETURNING c.id)
             INSERT INTO audit_events (at, actor, action, target_type, target_id, agent_id, reason,
                                       outcome, error_code, command_id)
             SELECT i.at, i.actor, i.action, i.target_type, i.target_id, i.agent_id, i.reason,
                    i.outcome, i.audit_error_code, i.id
               FROM input i JOIN finished f ON f.id = i.id
             RETURNING command_id AS id`,
      values: [
        column((f) => f.id),
        column((f) => f.outcome.status),
        column((f) => f.outcome.errorCode ?? null),
        column((f) => f.outcome.errorMessage ?? null),
        column((f) => jsonOrNull(f.outcome.result)),
        column((f) => f.outcome.finishedAt),
        column((f) => f.audit.at),
        column((f) => f.audit.actor),
        column((f) => f.audit.action),
        column((f) => f.audit.targetType),
        column((f) => f.audit.targetId),
        column((f) => f.audit.agentId),
        column((f) => f.audit.reason),
        column((f) => f.audit.outcome),
        column((f) => f.audit.errorCode),
      ],
    });
    const recorded = new Set(rows.map((r) => r.id));
    return finished.map((f) => recorded.has(f.id));
  }

  async findById(id: string): Promise<CommandRow | null> {
    const { rows } = await this.db.query<CommandRow>(
      `SELECT ${COLUMNS} FROM commands WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }
}
