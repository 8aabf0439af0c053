import type pg from 'pg';
import type { Role } from '../auth/permissions.js';

export interface UserRow {
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  createdAt: Date;
}

const COLUMNS = 'id, username, password_hash AS "passwordHash", role, created_at AS "createdAt"';

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

  /** Inserts the user; returns null when the username is taken. */
  async insert(user: Omit<UserRow, 'createdAt'>): Promise<UserRow | null> {
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
}
