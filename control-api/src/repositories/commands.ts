import type pg from 'pg';

export type CommandStatus = 'pending' | 'succeeded' | 'failed' | 'timed_out' | 'offline';

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

export class CommandRepository {
  constructor(private readonly db: pg.Pool) {}

  async insertPending(c: {
    id: string;
    agentId: string;
    type: string;
    target: string | null;
    action: string | null;
    reason: string | null;
    actor: string;
    createdAt: Date;
    deadlineAt: Date;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO commands (id, agent_id, type, target, action, reason, actor, status, created_at, deadline_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)`,
      [c.id, c.agentId, c.type, c.target, c.action, c.reason, c.actor, c.createdAt, c.deadlineAt],
    );
  }

  /**
   * Records the command's one outcome. Guarded on `pending`, so a late result after a timeout
   * (or a second instance racing) cannot overwrite it; returns whether this call recorded it.
   */
  async finish(
    id: string,
    outcome: {
      status: Exclude<CommandStatus, 'pending'>;
      errorCode?: string;
      errorMessage?: string;
      result?: unknown;
      finishedAt: Date;
    },
  ): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE commands SET status = $2, error_code = $3, error_message = $4, result = $5, finished_at = $6
        WHERE id = $1 AND status = 'pending'`,
      [
        id,
        outcome.status,
        outcome.errorCode ?? null,
        outcome.errorMessage ?? null,
        outcome.result === undefined ? null : JSON.stringify(outcome.result),
        outcome.finishedAt,
      ],
    );
    return rowCount === 1;
  }

  async findById(id: string): Promise<CommandRow | null> {
    const { rows } = await this.db.query<CommandRow>(
      `SELECT ${COLUMNS} FROM commands WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }
}
