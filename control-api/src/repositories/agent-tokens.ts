import type pg from 'pg';

export interface AgentTokenRow {
  id: string;
  name: string;
  createdBy: string;
  createdAt: Date;
}

export class AgentTokenRepository {
  constructor(private readonly db: pg.Pool) {}

  async insert(row: {
    id: string;
    name: string;
    tokenHash: string;
    createdBy: string;
  }): Promise<AgentTokenRow> {
    const { rows } = await this.db.query<AgentTokenRow>(
      `INSERT INTO agent_tokens (id, name, token_hash, created_by) VALUES ($1, $2, $3, $4)
       RETURNING id, name, created_by AS "createdBy", created_at AS "createdAt"`,
      [row.id, row.name, row.tokenHash, row.createdBy],
    );
    const inserted = rows[0];
    if (!inserted) throw new Error('agent token insert returned no row');
    return inserted;
  }

  async findActiveByHash(tokenHash: string): Promise<AgentTokenRow | null> {
    const { rows } = await this.db.query<AgentTokenRow>(
      `SELECT id, name, created_by AS "createdBy", created_at AS "createdAt"
         FROM agent_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }
}
