import type pg from 'pg';

export interface AgentTokenRow {
  id: string;
  name: string;
  createdBy: string;
  createdAt: Date;
  /** How many agents may register with the token; null: no cap (a fleet token). */
  maxAgents: number | null;
}

export interface AgentTokenListing extends AgentTokenRow {
  lastUsedAt: Date | null;
  agentCount: number;
  agentIds: string[];
}

const COLUMNS = `id, name, created_by AS "createdBy", created_at AS "createdAt",
  max_agents AS "maxAgents"`;

/** `last_used_at` is written at most this often per token, not on every poll. */
const LAST_USED_RESOLUTION = '1 minute';

export class AgentTokenRepository {
  constructor(private readonly db: pg.Pool) {}

  async insert(row: {
    id: string;
    name: string;
    tokenHash: string;
    createdBy: string;
    maxAgents: number | null;
  }): Promise<AgentTokenRow> {
    const { rows } = await this.db.query<AgentTokenRow>(
      `INSERT INTO agent_tokens (id, name, token_hash, created_by, max_agents)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [row.id, row.name, row.tokenHash, row.createdBy, row.maxAgents],
    );
    const inserted = rows[0];
    if (!inserted) throw new Error('agent token insert returned no row');
    return inserted;
  }

  /** The active token with that hash, noting its use (to the minute, in the same round trip). */
  async findActiveByHash(tokenHash: string): Promise<AgentTokenRow | null> {
    const { rows } = await this.db.query<AgentTokenRow>({
      name: 'agent-tokens.find-active',
      text: `WITH found AS (
               SELECT ${COLUMNS}, last_used_at FROM agent_tokens
                WHERE token_hash = $1 AND revoked_at IS NULL),
             touched AS (
               UPDATE agent_tokens SET last_used_at = now()
                WHERE id IN (SELECT id FROM found WHERE last_used_at IS NULL
                               OR last_used_at < now() - interval '${LAST_USED_RESOLUTION}'))
             SELECT id, name, "createdBy", "createdAt", "maxAgents" FROM found`,
      values: [tokenHash],
    });
    return rows[0] ?? null;
  }

  /** Active tokens with the agents registered with each (at most `idsPerToken` ids each). */
  async listActive(idsPerToken: number): Promise<AgentTokenListing[]> {
    const { rows } = await this.db.query<AgentTokenListing>(
      `SELECT ${COLUMNS}, t.last_used_at AS "lastUsedAt",
              (SELECT count(*)::int FROM agents a WHERE a.agent_token_id = t.id) AS "agentCount",
              ARRAY(SELECT a.id::text FROM agents a WHERE a.agent_token_id = t.id
                     ORDER BY a.id LIMIT $1) AS "agentIds"
         FROM agent_tokens t WHERE t.revoked_at IS NULL ORDER BY t.created_at, t.id`,
      [idsPerToken],
    );
    return rows;
  }

  /** Returns the revoked token, or null when no active token has that id. */
  async revoke(id: string, at: Date): Promise<AgentTokenRow | null> {
    const { rows } = await this.db.query<AgentTokenRow>(
      `UPDATE agent_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL
       RETURNING ${COLUMNS}`,
      [id, at],
    );
    return rows[0] ?? null;
  }

  /** Which of these tokens are revoked (or gone). */
  async revokedAmong(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id::text AS id FROM unnest($1::uuid[]) AS wanted(id)
        WHERE NOT EXISTS (SELECT 1 FROM agent_tokens t
                           WHERE t.id = wanted.id AND t.revoked_at IS NULL)`,
      [ids],
    );
    return rows.map((r) => r.id);
  }
}
