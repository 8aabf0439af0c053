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
    name: 'metrics history',
    // One row per series (host, agent, metric name, point attributes), found by the SHA-256 of
    // its canonical form, so a sample is 24 bytes plus the row header instead of repeating its
    // jsonb. system_metrics is partitioned by day (services/history-partitions.ts creates them
    // ahead and drops them after HISTORY_RETENTION_DAYS); (series_id, time) serves every query,
    // with the value included: samples arrive time after time, so one series' day is spread over
    // every heap page of that day, and an index-only scan reads a tenth of the buffers
    // (bench/history-ingest, the 24 h query).
    // Service tokens gain the `ingest` role: the Collector's OTLP export, nothing else.
    sql: `
CREATE TABLE metric_series (
  id bigserial PRIMARY KEY,
  fingerprint bytea NOT NULL UNIQUE,
  host text NOT NULL,
  agent_id text,
  name text NOT NULL,
  attributes jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX metric_series_agent_name ON metric_series (agent_id, name);
CREATE INDEX metric_series_host_name ON metric_series (host, name);
CREATE TABLE system_metrics (
  time timestamptz NOT NULL,
  series_id bigint NOT NULL,
  value double precision NOT NULL
) PARTITION BY RANGE (time);
CREATE INDEX system_metrics_series_time ON system_metrics (series_id, time) INCLUDE (value);
ALTER TABLE service_tokens DROP CONSTRAINT service_tokens_role_check;
ALTER TABLE service_tokens ADD CONSTRAINT service_tokens_role_check
  CHECK (role IN ('viewer', 'operator', 'ingest')) NOT VALID;
`,
  },
  {
    version: 8,
    name: 'events and inventory history',
    // events: what happened to and through agents, newest queried first. Audited actions
    // (commands with their outcome, token, user and agent changes) become events by a trigger,
    // so every audit row, whichever statement wrote it, has its event in the same transaction;
    // presence events (connected, disconnected) are written by the OpAMP server.
    // processes and windows: inventory snapshots, partitioned by day like system_metrics.
    sql: `
CREATE TABLE events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  type text NOT NULL,
  agent_id text,
  actor text,
  outcome text,
  target_type text,
  target_id text,
  command_id uuid,
  audit_id bigint UNIQUE,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at ON events (at, id);
CREATE INDEX events_agent_at ON events (agent_id, at, id);
CREATE INDEX events_type_at ON events (type, at, id);
CREATE FUNCTION events_from_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (at, type, agent_id, actor, outcome, target_type, target_id, command_id,
                      audit_id, details)
  VALUES (NEW.at, NEW.action, NEW.agent_id, NEW.actor, NEW.outcome, NEW.target_type,
          NEW.target_id, NEW.command_id, NEW.id,
          jsonb_strip_nulls(jsonb_build_object('reason', NEW.reason, 'errorCode', NEW.error_code)));
  RETURN NULL;
END $$;
CREATE TRIGGER audit_events_to_events AFTER INSERT ON audit_events
  FOR EACH ROW EXECUTE FUNCTION events_from_audit();
CREATE INDEX commands_created_at ON commands (created_at);

CREATE TABLE processes (
  time timestamptz NOT NULL,
  agent_id text NOT NULL,
  host text,
  pid integer NOT NULL,
  name text,
  owner text,
  cpu_utilization double precision,
  memory_bytes double precision,
  acted_on text
) PARTITION BY RANGE (time);
CREATE INDEX processes_agent_time ON processes (agent_id, time);
CREATE TABLE windows (
  time timestamptz NOT NULL,
  agent_id text NOT NULL,
  window_id text NOT NULL,
  title text NOT NULL,
  pid integer,
  bounds jsonb,
  active boolean NOT NULL,
  minimized boolean NOT NULL,
  maximized boolean NOT NULL
) PARTITION BY RANGE (time);
CREATE INDEX windows_agent_time ON windows (agent_id, time);
`,
  },
  {
    version: 9,
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
