import type pg from 'pg';

/**
 * Schema migrations, applied in order at start-up under an advisory lock so several API
 * instances sharing one database never race. Applied versions are kept in schema_migrations;
 * a published migration is never edited, only followed by a new one.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE users (
  id uuid PRIMARY KEY,
  username text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  family_id uuid NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE TABLE agent_tokens (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE TABLE agents (
  id uuid PRIMARY KEY,
  hostname text,
  identifying_attributes jsonb NOT NULL DEFAULT '{}',
  non_identifying_attributes jsonb NOT NULL DEFAULT '{}',
  capabilities bigint NOT NULL DEFAULT 0,
  custom_capabilities text[] NOT NULL DEFAULT '{}',
  transport text NOT NULL,
  agent_token_id uuid REFERENCES agent_tokens(id) ON DELETE SET NULL,
  first_seen_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
CREATE TABLE commands (
  id uuid PRIMARY KEY,
  agent_id uuid NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  type text NOT NULL,
  target text,
  action text,
  reason text,
  actor text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'timed_out', 'offline')),
  error_code text,
  error_message text,
  result jsonb,
  created_at timestamptz NOT NULL,
  deadline_at timestamptz NOT NULL,
  finished_at timestamptz
);
CREATE INDEX commands_agent ON commands (agent_id, created_at);
CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  target_type text NOT NULL,
  target_id text,
  agent_id text,
  reason text,
  outcome text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'denied')),
  error_code text,
  command_id uuid
);
CREATE INDEX audit_events_agent ON audit_events (agent_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
`,
  },
  {
    version: 2,
    name: 'service tokens',
    sql: `
CREATE TABLE service_tokens (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('viewer', 'operator')),
  token_hash text NOT NULL UNIQUE,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE UNIQUE INDEX service_tokens_active_name ON service_tokens (name) WHERE revoked_at IS NULL;
`,
  },
  {
    version: 3,
    name: 'audit filters by action and time',
    // Pages run newest first by id: (action, id) serves an action filter with its cursor; a time
    // range alone is found through at.
    sql: `
CREATE INDEX audit_events_action ON audit_events (action, id);
CREATE INDEX audit_events_at ON audit_events (at, id);
`,
  },
  {
    version: 4,
    name: 'agent token caps and last use',
    // agents.agent_token_id now names the token that first registered the uid (its owner).
    // max_agents NULL is "*" (no cap). Tokens issued before caps existed may serve a fleet, so
    // they keep no cap; new ones get 1 unless created otherwise.
    sql: `
ALTER TABLE agent_tokens ADD COLUMN max_agents integer CHECK (max_agents IS NULL OR max_agents >= 1);
ALTER TABLE agent_tokens ALTER COLUMN max_agents SET DEFAULT 1;
ALTER TABLE agent_tokens ADD COLUMN last_used_at timestamptz;
CREATE INDEX agents_agent_token ON agents (agent_token_id, id);
`,
  },
  {
    version: 5,
    name: 'user token versions and disabled users',
    // token_version is the `ver` claim every access token of the user must carry: bumping it
    // ends them all at once. Revoked sessions are read back by revocation time, and a user's
    // sessions are revoked (or cascaded away) by user.
    sql: `
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_revoked_at ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
`,
  },
  {
    version: 6,
    name: 'command outcome unknown',
    // A command sent to an agent whose connection ended before it answered is `unknown`, in the
    // commands and in the audit log. The new checks only widen the old ones, which every stored
    // row passed: NOT VALID spares a scan of both tables under an exclusive lock.
    sql: `
ALTER TABLE commands DROP CONSTRAINT commands_status_check;
ALTER TABLE commands ADD CONSTRAINT commands_status_check
  CHECK (status IN ('pending', 'succeeded', 'failed', 'timed_out', 'offline', 'unknown')) NOT VALID;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_outcome_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_outcome_check
  CHECK (outcome IN ('succeeded', 'failed', 'denied', 'unknown')) NOT VALID;
`,
  },
  {
    version: 7,
    name: 'pending commands by deadline',
    // The instances look for actions left pending by an instance that died (command-relay.ts):
    // a partial index keeps that look-up to the few rows that are pending.
    sql: `
CREATE INDEX commands_pending_deadline ON commands (deadline_at) WHERE status = 'pending';
`,
  },
];

const MIGRATION_LOCK_KEY = 7_319_001;

/**
 * Migrations may rewrite big tables and wait for another instance's lock, so they run with a
 * generous timeout of their own instead of the pool's (those bound request handling).
 */
const MIGRATION_QUERY_TIMEOUT_MS = 15 * 60 * 1000;

export async function runMigrations(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect();
  // node-postgres honours a per-query `query_timeout`; its types do not list it.
  const query = (text: string, values?: unknown[]) =>
    client.query<{ version: number }>({
      text,
      values,
      query_timeout: MIGRATION_QUERY_TIMEOUT_MS,
    } as pg.QueryConfig);
  const applied: number[] = [];
  let failure: Error | undefined;
  try {
    await query('SET statement_timeout = 0');
    await query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await query('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await query('BEGIN');
      try {
        await query(migration.sql);
        await query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await query('COMMIT');
        applied.push(migration.version);
      } catch (error) {
        await query('ROLLBACK');
        throw error;
      }
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    await client
      .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
      .catch(() => undefined);
    // The session's settings must not follow the connection back into the pool; after a
    // failure the connection is discarded instead.
    if (!failure) await client.query('RESET statement_timeout').catch((e: Error) => (failure = e));
    client.release(failure);
  }
  return applied;
}
