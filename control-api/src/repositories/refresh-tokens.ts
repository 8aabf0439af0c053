import type pg from 'pg';
import { inTransaction } from './transaction.js';

export interface RefreshTokenRow {
  id: string;
  userId: string;
  familyId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export type RotationOutcome =
  | { kind: 'rotated'; userId: string; familyId: string }
  | { kind: 'unknown' | 'expired' | 'revoked' }
  | { kind: 'reused'; familyId: string };

export class RefreshTokenRepository {
  constructor(private readonly db: pg.Pool) {}

  async insert(row: {
    id: string;
    userId: string;
    familyId: string;
    tokenHash: string;
    createdAt: Date;
    expiresAt: Date;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [row.id, row.userId, row.familyId, row.tokenHash, row.createdAt, row.expiresAt],
    );
  }

  /**
   * Marks the presented token used and stores its successor in the same family, atomically.
   * Presenting an already used token revokes the whole family: either the legitimate client or
   * a thief holds a newer token, and we cannot tell which.
   */
  async rotate(
    tokenHash: string,
    now: Date,
    successor: { id: string; tokenHash: string; expiresAt: Date },
  ): Promise<RotationOutcome> {
    return inTransaction(this.db, async (client): Promise<RotationOutcome> => {
      const { rows } = await client.query<RefreshTokenRow>(
        `SELECT id, user_id AS "userId", family_id AS "familyId", expires_at AS "expiresAt",
                used_at AS "usedAt", revoked_at AS "revokedAt"
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
        [tokenHash],
      );
      const row = rows[0];
      if (!row) return { kind: 'unknown' };
      if (row.usedAt) {
        await client.query(
          'UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL',
          [row.familyId, now],
        );
        return { kind: 'reused', familyId: row.familyId };
      }
      if (row.revokedAt) return { kind: 'revoked' };
      if (row.expiresAt.getTime() <= now.getTime()) return { kind: 'expired' };
      await client.query('UPDATE refresh_tokens SET used_at = $2 WHERE id = $1', [row.id, now]);
      await client.query(
        `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [successor.id, row.userId, row.familyId, successor.tokenHash, now, successor.expiresAt],
      );
      return { kind: 'rotated', userId: row.userId, familyId: row.familyId };
    });
  }

  /**
   * Revokes the family of the token if it belongs to the user; returns the family revoked now,
   * or null (an unknown token, another user's, or a family revoked before).
   */
  async revokeFamilyOf(tokenHash: string, userId: string, now: Date): Promise<string | null> {
    const { rows } = await this.db.query<{ familyId: string }>(
      `UPDATE refresh_tokens SET revoked_at = $3
        WHERE revoked_at IS NULL AND family_id = (
          SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2)
        RETURNING family_id AS "familyId"`,
      [tokenHash, userId, now],
    );
    return rows[0]?.familyId ?? null;
  }

  /** The families (sessions) revoked at or after `since`, each with its latest revocation. */
  async revokedSince(since: Date): Promise<{ familyId: string; revokedAt: Date }[]> {
    const { rows } = await this.db.query<{ familyId: string; revokedAt: Date }>(
      `SELECT family_id AS "familyId", max(revoked_at) AS "revokedAt" FROM refresh_tokens
        WHERE revoked_at >= $1 GROUP BY family_id`,
      [since],
    );
    return rows;
  }

  async familyState(familyId: string): Promise<{ total: number; revoked: number }> {
    const { rows } = await this.db.query<{ total: string; revoked: string }>(
      `SELECT count(*) AS total, count(revoked_at) AS revoked FROM refresh_tokens WHERE family_id = $1`,
      [familyId],
    );
    return { total: Number(rows[0]?.total ?? 0), revoked: Number(rows[0]?.revoked ?? 0) };
  }
}
