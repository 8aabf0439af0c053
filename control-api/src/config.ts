import { isIP } from 'node:net';
import { TrustedProxies, TrustedProxiesError } from './infra/client-ip.js';
import type { Clock } from './infra/clock.js';
import { DatabaseUrlError, parseDatabaseUrl } from './infra/database-hosts.js';
import {
  logSettingsFromEnv,
  LogSettingsError,
  type LogLevel,
  type LogSettings,
} from './infra/logger.js';

export type { LogLevel };

/** The oldest TLS version the API accepts (TLS_MIN_VERSION). */
export const TLS_MIN_VERSIONS = ['TLSv1.3', 'TLSv1.2'] as const;
export type TlsMinVersion = (typeof TLS_MIN_VERSIONS)[number];

/** The certificate the API serves HTTPS and WSS with. */
export interface TlsSettings {
  certFile: string;
  keyFile: string;
  minVersion: TlsMinVersion;
}

/** The design's REST rate: requests per minute per principal (RATE_LIMIT_PER_MINUTE). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 100;

/**
 * Every environment variable the API reads, so that deployment files can be checked against the
 * code (e2e/kubernetes-manifests.test.ts); config-environment.test.ts proves resolveConfig reads
 * no other. The TLS and proxy names are the ones fixed for issue 11.
 */
export const ENVIRONMENT_VARIABLES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'REDIS_URL',
  'CYBERCORP_JWT_SECRET_FILE',
  'CYBERCORP_ADMIN_USER',
  'CYBERCORP_ADMIN_PASSWORD',
  'RATE_LIMIT_PER_MINUTE',
  'CORS_ORIGINS',
  'OPAMP_MESSAGES_PER_MINUTE',
  'OPAMP_MAX_CONNECTIONS',
  'OPAMP_MAX_PENDING_UPGRADES',
  'LOG_LEVEL',
  'CYBERCORP_LOG_LEVEL',
  'LOG_DEBUG_SAMPLE',
  'LOG_FILE',
  'LOG_FILE_COUNT',
  'TLS_CERT_FILE',
  'TLS_KEY_FILE',
  'TLS_MIN_VERSION',
  'ALLOW_PLAINTEXT_HTTP',
  'TRUSTED_PROXIES',
  'HISTORY_RETENTION_DAYS',
  'AUDIT_RETENTION_DAYS',
  'INVENTORY_INTERVAL',
] as const;

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
  /** TLS_CERT_FILE (PEM, with its chain): with `tlsKeyFile`, the API serves HTTPS and WSS. */
  tlsCertFile?: string;
  /** TLS_KEY_FILE (PEM): the certificate's private key. */
  tlsKeyFile?: string;
  /** TLS_MIN_VERSION (TLSv1.3): the oldest TLS version accepted. */
  tlsMinVersion?: TlsMinVersion;
  /**
   * ALLOW_PLAINTEXT_HTTP (false): serve plain HTTP on a HOST that is not loopback, e.g. behind a
   * TLS-terminating proxy on a private network. On loopback plain HTTP is always allowed.
   */
  allowPlaintextHttp?: boolean;
  /**
   * TRUSTED_PROXIES (comma-separated IPs and CIDRs, none by default): peers whose
   * `X-Forwarded-For` names the client (infra/client-ip.ts), and whose `X-Forwarded-Host` and
   * `-Proto` name the URL an agent used (opamp/opamp-endpoint.ts).
   */
  trustedProxies?: string[];
  /** HISTORY_RETENTION_DAYS (30): days of metrics and inventory history kept in PostgreSQL. */
  historyRetentionDays?: number;
  /** AUDIT_RETENTION_DAYS (365): days of commands, audit and events kept. */
  auditRetentionDays?: number;
  /** INVENTORY_INTERVAL (60 s; `90`, `90s` or `2m`): an agent's process inventory is kept this often, and on change. */
  inventoryIntervalSeconds?: number;
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
  /** Undefined: plain HTTP. */
  tls: TlsSettings | undefined;
  allowPlaintextHttp: boolean;
  /** The TRUSTED_PROXIES entries, each an IP or a CIDR. */
  trustedProxies: string[];
  historyRetentionDays: number;
  auditRetentionDays: number;
  inventoryIntervalSeconds: number;
}

export class ConfigError extends Error {
  readonly code = 'invalid_config';
}

/** How a setting's text becomes a number, and how its error names what is expected. */
interface NumberReading {
  parse: (raw: string | number) => number;
  expected: (min: number, max: number) => string;
}

const INTEGER: NumberReading = {
  parse: (raw) => (typeof raw === 'number' ? raw : Number(raw)),
  expected: (min, max) => `an integer from ${min} to ${max}`,
};

/** Digits with an optional unit, blanks around: `90`, `90s`, `2m`. */
const DURATION = /^\s*(\d{1,6})\s*(s|m)?\s*$/;

/**
 * A duration in whole seconds from `90`, `90s` or `2m`; a number (an option) is taken as seconds.
 * Other text is read as INTEGER reads it (`1e2` is 100), as INVENTORY_INTERVAL always was.
 */
const SECONDS: NumberReading = {
  parse: (raw) => {
    const match = typeof raw === 'string' ? DURATION.exec(raw) : null;
    return match ? Number(match[1]) * (match[2] === 'm' ? 60 : 1) : INTEGER.parse(raw);
  },
  expected: (min, max) => `a whole number of seconds from ${min} to ${max} (90, 90s or 2m)`,
};

function integer(
  name: string,
  raw: string | number | undefined,
  fallback: number,
  min: number,
  max: number,
  reading: NumberReading = INTEGER,
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = reading.parse(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be ${reading.expected(min, max)}, got ${String(raw)}`);
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

function boolean(name: string, raw: boolean | string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(`${name} must be true or false, got ${raw}`);
}

/** Loopback names and addresses: plain HTTP there never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const ipv4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIP(ipv4) === 4 && ipv4.startsWith('127.');
}

function tlsSettings(
  options: ControlApiOptions,
  env: NodeJS.ProcessEnv,
  host: string,
): Pick<Config, 'tls' | 'allowPlaintextHttp'> {
  const certFile = options.tlsCertFile ?? nonEmpty(env.TLS_CERT_FILE);
  const keyFile = options.tlsKeyFile ?? nonEmpty(env.TLS_KEY_FILE);
  const minVersion = options.tlsMinVersion ?? nonEmpty(env.TLS_MIN_VERSION) ?? 'TLSv1.3';
  const allowPlaintextHttp = boolean(
    'ALLOW_PLAINTEXT_HTTP',
    options.allowPlaintextHttp ?? env.ALLOW_PLAINTEXT_HTTP,
    false,
  );
  if (!(TLS_MIN_VERSIONS as readonly string[]).includes(minVersion)) {
    throw new ConfigError(
      `TLS_MIN_VERSION must be ${TLS_MIN_VERSIONS.join(' or ')}, got ${minVersion}`,
    );
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      `TLS_CERT_FILE and TLS_KEY_FILE go together: ${certFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'} is missing`,
    );
  }
  if (certFile !== undefined && keyFile !== undefined) {
    return {
      tls: { certFile, keyFile, minVersion: minVersion as TlsMinVersion },
      allowPlaintextHttp,
    };
  }
  if (!allowPlaintextHttp && !isLoopbackHost(host)) {
    throw new ConfigError(
      `refusing plain HTTP on HOST ${host}, which is not loopback: set TLS_CERT_FILE and TLS_KEY_FILE to serve HTTPS, or ALLOW_PLAINTEXT_HTTP=true behind a TLS-terminating proxy on a private network`,
    );
  }
  return { tls: undefined, allowPlaintextHttp };
}

function trustedProxies(raw: string[] | string | undefined): string[] {
  const list = typeof raw === 'string' ? raw.split(',') : (raw ?? []);
  const entries = list.map((entry) => entry.trim()).filter((entry) => entry !== '');
  try {
    TrustedProxies.parse(entries);
  } catch (error) {
    if (error instanceof TrustedProxiesError) {
      throw new ConfigError(`TRUSTED_PROXIES: ${error.message}`);
    }
    throw error;
  }
  return entries;
}

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
  const host = options.host ?? nonEmpty(env.HOST) ?? '127.0.0.1';
  return {
    port: integer('PORT', options.port ?? env.PORT, 8080, 0, 65535),
    host,
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
    ...tlsSettings(options, env, host),
    trustedProxies: trustedProxies(options.trustedProxies ?? env.TRUSTED_PROXIES),
    historyRetentionDays: integer(
      'HISTORY_RETENTION_DAYS',
      options.historyRetentionDays ?? env.HISTORY_RETENTION_DAYS,
      30,
      1,
      3650,
    ),
    auditRetentionDays: integer(
      'AUDIT_RETENTION_DAYS',
      options.auditRetentionDays ?? env.AUDIT_RETENTION_DAYS,
      365,
      1,
      36_500,
    ),
    inventoryIntervalSeconds: integer(
      'INVENTORY_INTERVAL',
      options.inventoryIntervalSeconds ?? env.INVENTORY_INTERVAL,
      60,
      1,
      86_400,
      SECONDS,
    ),
  };
}
