import type pg from 'pg';
import type { Role } from '../auth/permissions.js';
import { inTransaction } from './transaction.js';

export interface UserRow {
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  createdAt: Date;
  /** The `ver` claim the user's valid access tokens carry. */
  tokenVersion: number;
  disabledAt: Date | null;
}

/** What an access token of the user is checked against. */
export interface UserTokenState {
  tokenVersion: number;
  disabled: boolean;
}

export interface UserChange {
  role?: Role;
  disabled?: boolean;
  passwordHash?: string;
}

export type UserChangeOutcome =
  | { kind: 'changed'; before: UserRow; after: UserRow }
  | { kind: 'not_found' }
  /** The change would leave no enabled admin; nothing was changed. */
  | { kind: 'last_admin' };

const COLUMNS = `id, username, password_hash AS "passwordHash", role, created_at AS "createdAt",
  token_version AS "tokenVersion", disabled_at AS "disabledAt"`;

/**
 * Serializes the changes that can remove an enabled admin, so that two admins demoting each
 * other at once cannot both succeed (each would still see the other as admin).
 */
const ADMIN_CHANGE_LOCK_KEY = 7_319_005;

const isEnabledAdmin = (user: UserRow) => user.role === 'admin' && user.disabledAt === null;

export class UserRepository {
  constructor(private readonly db: pg.Pool) {}

  async findByUsername(username: string): Promise<UserRow | null> {
    const { rows } = await this.db.query<UserRow>(
      `SELECT ${COLUMNS} FROM users WHERE username = $1`,
      [username],
    );
    return rows[0] ?? null;
  }

  async findById(id: string): Promise<UserRow | null> {
    const { rows } = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [
      id,
    ]);
    return rows[0] ?? null;
  }

  async tokenStateOf(id: string): Promise<UserTokenState | null> {
    const { rows } = await this.db.query<UserTokenState>(
      `SELECT token_version AS "tokenVersion", disabled_at IS NOT NULL AS disabled
         FROM users WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Ordered by username; `afterUsername` is the keyset cursor (the last of the previous page). */
  async list(page: { limit: number; afterUsername?: string }): Promise<UserRow[]> {
    const { rows } = await this.db.query<UserRow>(
      `SELECT ${COLUMNS} FROM users WHERE ($2::text IS NULL OR username > $2)
        ORDER BY username LIMIT $1`,
      [page.limit, page.afterUsername ?? null],
    );
    return rows;
  }

  /** Inserts the user; returns null when the username is taken. */
  async insert(user: Pick<UserRow, 'id' | 'username' | 'passwordHash' | 'role'>) {
    const { rows } = await this.db.query<UserRow>(
      `INSERT INTO users (id, username, password_hash, role) VALUES ($1, $2, $3, $4)
       ON CONFLICT (username) DO NOTHING RETURNING ${COLUMNS}`,
      [user.id, user.username, user.passwordHash, user.role],
    );
    return rows[0] ?? null;
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM users');
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Applies the change unless it would leave no enabled admin. A change of role, disabling and
   * a new password bump the token version (the user's access tokens stop verifying); disabling
   * and a new password also revoke the user's refresh tokens, so no session can mint new ones.
   */
  async change(username: string, change: UserChange, now: Date): Promise<UserChangeOutcome> {
    return inTransaction(this.db, async (client): Promise<UserChangeOutcome> => {
      const before = await this.lockForAdminChange(client, username);
      if (!before) return { kind: 'not_found' };
      const roleChanged = change.role !== undefined && change.role !== before.role;
      const disabling = change.disabled === true && before.disabledAt === null;
      const losesAdmin =
        isEnabledAdmin(before) && (disabling || (roleChanged && change.role !== 'admin'));
      if (losesAdmin && !(await this.anotherEnabledAdmin(client, before.id))) {
        return { kind: 'last_admin' };
      }
      const endsSessions = disabling || change.passwordHash !== undefined;
      const bump = roleChanged || endsSessions ? 1 : 0;
      const { rows } = await client.query<UserRow>(
        `UPDATE users SET
           role = COALESCE($2, role),
           disabled_at = CASE WHEN $3::boolean IS NULL THEN disabled_at
                              WHEN $3 THEN COALESCE(disabled_at, $5) ELSE NULL END,
           password_hash = COALESCE($4, password_hash),
           token_version = token_version + $6
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          before.id,
          change.role ?? null,
          change.disabled ?? null,
          change.passwordHash ?? null,
          now,
          bump,
        ],
      );
      if (endsSessions) {
        await client.query(
          'UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL',
          [before.id, now],
        );
      }
      return { kind: 'changed', before, after: rows[0]! };
    });
  }

  /** Deletes the user (its refresh tokens go with it) unless it is the last enabled admin. */
  async delete(username: string): Promise<UserChangeOutcome> {
    return inTransaction(this.db, async (client): Promise<UserChangeOutcome> => {
      const before = await this.lockForAdminChange(client, username);
      if (!before) return { kind: 'not_found' };
      if (isEnabledAdmin(before) && !(await this.anotherEnabledAdmin(client, before.id))) {
        return { kind: 'last_admin' };
      }
      await client.query('DELETE FROM users WHERE id = $1', [before.id]);
      return { kind: 'changed', before, after: before };
    });
  }

  private async lockForAdminChange(client: pg.PoolClient, username: string) {
    await client.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_CHANGE_LOCK_KEY]);
    const { rows } = await client.query<UserRow>(
      `SELECT ${COLUMNS} FROM users WHERE username = $1 FOR UPDATE`,
      [username],
    );
    return rows[0];
  }

  private async anotherEnabledAdmin(client: pg.PoolClient, exceptId: string): Promise<boolean> {
    const { rows } = await client.query(
      `SELECT 1 FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1 LIMIT 1`,
      [exceptId],
    );
    return rows.length > 0;
  }
}
