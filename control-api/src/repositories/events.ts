import type pg from 'pg';
import { newestFirstQuery } from './keyset-query.js';

export interface EventRow {
  id: string;
  at: Date;
  type: string;
  agentId: string | null;
  actor: string | null;
  outcome: string | null;
  targetType: string | null;
  targetId: string | null;
  commandId: string | null;
  auditId: string | null;
  details: Record<string, unknown>;
}

export type NewEvent = Pick<EventRow, 'at' | 'type' | 'agentId' | 'details'>;

export interface EventFilter {
  agentId?: string;
  type?: string;
  since?: Date;
  until?: Date;
  /** Keyset cursor: rows with a smaller id (newest first). */
  beforeId?: bigint;
  limit: number;
}

const COLUMNS = `id::text AS id, at, type, agent_id AS "agentId", actor, outcome,
  target_type AS "targetType", target_id AS "targetId", command_id AS "commandId",
  audit_id::text AS "auditId", details`;

export class EventRepository {
  constructor(private readonly db: pg.Pool) {}

  async insertMany(events: readonly NewEvent[]): Promise<void> {
    await this.db.query(
      `INSERT INTO events (at, type, agent_id, details)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::jsonb[])`,
      [
        events.map((e) => e.at),
        events.map((e) => e.type),
        events.map((e) => e.agentId),
        events.map((e) => JSON.stringify(e.details)),
      ],
    );
  }

  /** Newest first; every filter applied in the query. */
  async list(filter: EventFilter): Promise<EventRow[]> {
    const { text, values } = newestFirstQuery(
      'events',
      COLUMNS,
      [
        ['agent_id', '=', filter.agentId],
        ['type', '=', filter.type],
        ['at', '>=', filter.since],
        ['at', '<=', filter.until],
      ],
      filter,
    );
    const { rows } = await this.db.query<EventRow>(text, values);
    return rows;
  }
}
