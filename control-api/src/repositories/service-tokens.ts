import type pg from 'pg';

import type { ServiceTokenRole } from '@cybercorp/protocol';

export type { ServiceTokenRole };

export interface ServiceTokenRow {
  id: string;
  name: string;
  role: ServiceTokenRole;
  createdBy: string;
  createdAt: Date;
}

const COLUMNS = 'id, name, role, created_by AS "createdBy", created_at AS "createdAt"';

/** Service tokens for integrations such as the Grafana plugin proxy; only hashes are stored. */
export class ServiceTokenRepository {
  constructor(private readonly db: pg.Pool) {}

  /** Inserts the token; returns null when an active token already has that name. */
  async insert(row: {
    id: string;
    name: string;
    role: ServiceTokenRole;
    tokenHash: string;
    createdBy: string;
  }): Promise<ServiceTokenRow | null> {
    const { rows } = await this.db.query<ServiceTokenRow>(
      `INSERT INTO service_tokens (id, name, role, token_hash, created_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
      [row.id, row.name, row.role, row.tokenHash, row.createdBy],
    );
    return rows[0] ?? null;
  }

  async listActive(): Promise<ServiceTokenRow[]> {
    const { rows } = await this.db.query<ServiceTokenRow>(
      `SELECT ${COLUMNS} FROM service_tokens WHERE revoked_at IS NULL ORDER BY created_at, id`,
    );
    return rows;
  }

  async findActiveByHash(tokenHash: string): Promise<ServiceTokenRow | null> {
    const { rows } = await this.db.query<ServiceTokenRow>(
      `SELECT ${COLUMNS} FROM service_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  /** Returns the revoked token, or null when no active token has that id. */
  async revoke(id: string, at: Date): Promise<ServiceTokenRow | null> {
    const { rows } = await this.db.query<ServiceTokenRow>(
      `UPDATE service_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL
       RETURNING ${COLUMNS}`,
      [id, at],
    );
    return rows[0] ?? null;
  }
}
