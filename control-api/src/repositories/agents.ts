import type pg from 'pg';

export interface AgentRow {
  id: string;
  hostname: string | null;
  identifyingAttributes: Record<string, string>;
  nonIdentifyingAttributes: Record<string, string>;
  capabilities: string; // bigint bit mask as text
  customCapabilities: string[];
  transport: 'websocket' | 'http';
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export interface AgentSighting {
  id: string;
  transport: 'websocket' | 'http';
  agentTokenId: string;
  capabilities: bigint;
  seenAt: Date;
  description?: {
    hostname: string | null;
    identifyingAttributes: Record<string, string>;
    nonIdentifyingAttributes: Record<string, string>;
  };
  customCapabilities?: string[];
}

const COLUMNS = `id, hostname, identifying_attributes AS "identifyingAttributes",
  non_identifying_attributes AS "nonIdentifyingAttributes", capabilities::text AS capabilities,
  custom_capabilities AS "customCapabilities", transport, first_seen_at AS "firstSeenAt",
  last_seen_at AS "lastSeenAt"`;

export class AgentRepository {
  constructor(private readonly db: pg.Pool) {}

  /** Records that the agent spoke; fields it did not send this time keep their stored values. */
  async upsert(s: AgentSighting): Promise<void> {
    const d = s.description;
    await this.db.query({
      name: 'agents.upsert',
      text: `INSERT INTO agents (id, hostname, identifying_attributes, non_identifying_attributes,
                           capabilities, custom_capabilities, transport, agent_token_id,
                           first_seen_at, last_seen_at)
       VALUES ($1, $2, COALESCE($3::jsonb, '{}'), COALESCE($4::jsonb, '{}'), $5,
               COALESCE($6::text[], '{}'), $7, $8, $9, $9)
       ON CONFLICT (id) DO UPDATE SET
         hostname = CASE WHEN $10 THEN EXCLUDED.hostname ELSE agents.hostname END,
         identifying_attributes = COALESCE($3::jsonb, agents.identifying_attributes),
         non_identifying_attributes = COALESCE($4::jsonb, agents.non_identifying_attributes),
         capabilities = CASE WHEN $5 <> 0 THEN EXCLUDED.capabilities ELSE agents.capabilities END,
         custom_capabilities = COALESCE($6::text[], agents.custom_capabilities),
         transport = EXCLUDED.transport,
         agent_token_id = EXCLUDED.agent_token_id,
         last_seen_at = GREATEST(agents.last_seen_at, EXCLUDED.last_seen_at)`,
      values: [
        s.id,
        d?.hostname ?? null,
        d ? JSON.stringify(d.identifyingAttributes) : null,
        d ? JSON.stringify(d.nonIdentifyingAttributes) : null,
        s.capabilities.toString(),
        s.customCapabilities ?? null,
        s.transport,
        s.agentTokenId,
        s.seenAt,
        d !== undefined,
      ],
    });
  }

  async findById(id: string): Promise<AgentRow | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<AgentRow>({
      name: 'agents.find-by-id',
      text: `SELECT ${COLUMNS} FROM agents WHERE id = $1`,
      values: [id],
    });
    return rows[0] ?? null;
  }

  /** Ordered by id; `afterId` is the keyset cursor (the last id of the previous page). */
  async list(page: { limit: number; afterId?: string }): Promise<AgentRow[]> {
    const { rows } = await this.db.query<AgentRow>(
      `SELECT ${COLUMNS} FROM agents WHERE ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $1`,
      [page.limit, page.afterId ?? null],
    );
    return rows;
  }
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
