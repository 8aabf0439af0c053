import type { Clock } from './infra/clock.js';
import { DatabaseUrlError, parseDatabaseUrl } from './infra/database-hosts.js';
import {
  logSettingsFromEnv,
  LogSettingsError,
  type LogLevel,
  type LogSettings,
} from './infra/logger.js';

export type { LogLevel };

/** The design's REST rate: requests per minute per principal (RATE_LIMIT_PER_MINUTE). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 100;

/** Options of `startControlApi`; each one overrides its environment variable. */
export interface ControlApiOptions {
  /** PORT (8080); 0 picks a free port. */
  port?: number;
  /** HOST (127.0.0.1). */
  host?: string;
  /** Where the embedded PostgreSQL cluster lives when no database URL is given (./.data). */
  dataDir?: string;
  /**
   * DATABASE_URL; unset → embedded PostgreSQL under dataDir. Several hosts as libpq takes them,
   * `postgres://u:p@h1:5432,h2:5432/db?target_session_attrs=read-write`: connections go to the
   * first host that accepts writes, and move when it is lost (failover to a promoted replica).
   */
  databaseUrl?: string;
  /** REDIS_URL; needed for more than one instance. */
  redisUrl?: string;
  /**
   * CYBERCORP_JWT_SECRET_FILE: the access-token signing keys (0600; generated when missing);
   * unset → `<dataDir>/jwt-keys.json`. Every instance of a deployment must use the same file.
   */
  jwtSecretFile?: string;
  /** CYBERCORP_ADMIN_USER (admin). */
  adminUser?: string;
  /** CYBERCORP_ADMIN_PASSWORD; unset on first start → generated and printed once. */
  adminPassword?: string;
  /** Heartbeat interval asked of agents (30 s); two missed heartbeats mean offline. */
  heartbeatSeconds?: number;
  /** Default command deadline in ms (5000). */
  commandTimeoutMs?: number;
  /** LOG_LEVEL (unset: info and a LOG_DEBUG_SAMPLE of debug lines); LOG_FILE adds a log file. */
  logLevel?: LogLevel;
  /**
   * RATE_LIMIT_PER_MINUTE (100): REST requests per minute per authenticated principal, per
   * address for anonymous calls; 0 turns the limit off.
   */
  rateLimitPerMinute?: number;
  /** CORS_ORIGINS (comma-separated): browser origins allowed to call the API; none by default. */
  corsOrigins?: string[];
  /** OPAMP_MESSAGES_PER_MINUTE (1000): messages one OpAMP WebSocket may send per minute. */
  opampMessagesPerMinute?: number;
  /** OPAMP_MAX_CONNECTIONS (10000): concurrent OpAMP WebSocket agents on this instance. */
  opampMaxConnections?: number;
  /** OPAMP_MAX_PENDING_UPGRADES (256): OpAMP WebSocket handshakes in progress at once. */
  opampMaxPendingUpgrades?: number;
  clock?: Clock;
  /** Receives the one-time notice with a generated admin password (default: stdout). */
  announce?: (message: string) => void;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  jwtSecretFile: string | undefined;
  adminUser: string;
  adminPassword: string | undefined;
  heartbeatSeconds: number;
  commandTimeoutMs: number;
  /** LOG_LEVEL, LOG_DEBUG_SAMPLE, LOG_FILE, LOG_FILE_COUNT (the `logLevel` option wins). */
  log: LogSettings;
  rateLimitPerMinute: number;
  corsOrigins: string[];
  opampMessagesPerMinute: number;
  opampMaxConnections: number;
  opampMaxPendingUpgrades: number;
}

export class ConfigError extends Error {
  readonly code = 'invalid_config';
}

function integer(
  name: string,
  raw: string | number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${String(raw)}`);
  }
  return value;
}

/** `https://grafana.example.com`-style origins: scheme, host and port, nothing else. */
function origins(raw: string[] | string | undefined): string[] {
  const list = typeof raw === 'string' ? raw.split(',') : (raw ?? []);
  return list
    .map((o) => o.trim())
    .filter((o) => o !== '')
    .map((o) => {
      let origin: string | undefined;
      try {
        origin = new URL(o).origin;
      } catch {
        origin = undefined;
      }
      if (origin !== o || !/^https?:/.test(o)) {
        throw new ConfigError(
          `CORS_ORIGINS: ${o} is not an origin like https://grafana.example.com`,
        );
      }
      return o;
    });
}

const nonEmpty = (value: string | undefined) =>
  value === undefined || value === '' ? undefined : value;

/** A DATABASE_URL the pool can use (one host or several, see infra/database-hosts.ts). */
function databaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    parseDatabaseUrl(raw);
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new ConfigError(error.message);
    throw error;
  }
  return raw;
}

export function resolveConfig(
  options: ControlApiOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  let log: LogSettings;
  try {
    log = logSettingsFromEnv(env, options.logLevel);
  } catch (error) {
    if (error instanceof LogSettingsError) throw new ConfigError(error.message);
    throw error;
  }
  return {
    port: integer('PORT', options.port ?? env.PORT, 8080, 0, 65535),
    host: options.host ?? nonEmpty(env.HOST) ?? '127.0.0.1',
    dataDir: options.dataDir ?? './.data',
    databaseUrl: databaseUrl(options.databaseUrl ?? nonEmpty(env.DATABASE_URL)),
    redisUrl: options.redisUrl ?? nonEmpty(env.REDIS_URL),
    jwtSecretFile: options.jwtSecretFile ?? nonEmpty(env.CYBERCORP_JWT_SECRET_FILE),
    adminUser: options.adminUser ?? nonEmpty(env.CYBERCORP_ADMIN_USER) ?? 'admin',
    adminPassword: options.adminPassword ?? nonEmpty(env.CYBERCORP_ADMIN_PASSWORD),
    heartbeatSeconds: integer('heartbeatSeconds', options.heartbeatSeconds, 30, 1, 86_400),
    commandTimeoutMs: integer('commandTimeoutMs', options.commandTimeoutMs, 5000, 1, 600_000),
    log,
    rateLimitPerMinute: integer(
      'RATE_LIMIT_PER_MINUTE',
      options.rateLimitPerMinute ?? env.RATE_LIMIT_PER_MINUTE,
      DEFAULT_RATE_LIMIT_PER_MINUTE,
      0,
      1_000_000_000,
    ),
    corsOrigins: origins(options.corsOrigins ?? env.CORS_ORIGINS),
    opampMessagesPerMinute: integer(
      'OPAMP_MESSAGES_PER_MINUTE',
      options.opampMessagesPerMinute ?? env.OPAMP_MESSAGES_PER_MINUTE,
      1000,
      1,
      1_000_000,
    ),
    opampMaxConnections: integer(
      'OPAMP_MAX_CONNECTIONS',
      options.opampMaxConnections ?? env.OPAMP_MAX_CONNECTIONS,
      10_000,
      1,
      1_000_000,
    ),
    opampMaxPendingUpgrades: integer(
      'OPAMP_MAX_PENDING_UPGRADES',
      options.opampMaxPendingUpgrades ?? env.OPAMP_MAX_PENDING_UPGRADES,
      256,
      1,
      100_000,
    ),
  };
}
