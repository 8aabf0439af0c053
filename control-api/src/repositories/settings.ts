import type pg from 'pg';

export class SettingsRepository {
  constructor(private readonly db: pg.Pool) {}

  /** Returns the stored value, storing `create()` first if none exists (first writer wins). */
  async getOrCreate(key: string, create: () => string): Promise<string> {
    await this.db.query(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
      [key, create()],
    );
    const { rows } = await this.db.query<{ value: string }>(
      'SELECT value FROM settings WHERE key = $1',
      [key],
    );
    const row = rows[0];
    if (!row) throw new Error(`setting ${key} vanished after insert`);
    return row.value;
  }

  /** Removes the setting; answers whether there was one. */
  async delete(key: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM settings WHERE key = $1', [key]);
    return (rowCount ?? 0) > 0;
  }
}
