import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { OPAMP_PATH, UNLIMITED_AGENTS, type MaxAgents } from '@cybercorp/protocol';
import { Redis } from 'ioredis';
import { buildControlPlane, type ControlPlane, type ControlPlaneDeps } from './composition.js';
import { resolveConfig, type Config, type ControlApiOptions } from './config.js';
import { answerClientError } from './infra/client-error.js';
import { systemClock } from './infra/clock.js';
import { createDatabasePool } from './infra/database-pool.js';
import { startEmbeddedPostgres } from './infra/embedded-postgres.js';
import { openLogger, type Logger } from './infra/logger.js';
import {
  REDIS_CLIENT_OPTIONS,
  REDIS_SUBSCRIBER_OPTIONS,
  watchRedisConnections,
} from './infra/redis.js';
import { runMigrations } from './infra/migrations.js';
import {
  loadTlsCredentials,
  secureContextOptions,
  TlsReloader,
  type TlsCredentials,
  type TlsReloadOutcome,
  type TlsReloadTrigger,
} from './infra/tls-context.js';
import type { ServiceTokenRole } from './repositories/service-tokens.js';

type Server = HttpServer | HttpsServer;

export interface ControlApi {
  /** Base URL, e.g. http://127.0.0.1:8080, or https://… when serving TLS. */
  url: string;
  /** WebSocket URL of the OpAMP endpoint (ws://…, or wss://… when serving TLS). */
  opampUrl: string;
  port: number;
  host: string;
  instanceId: string;
  databaseUrl: string;
  config: Config;
  /** The bootstrap admin's username, and its password when this start generated or was given it. */
  admin: { username: string; password?: string; created: boolean };
  /**
   * Creates an agent token (e.g. for a local agent); the secret is returned only here. Without
   * `maxAgents`, any number of agents may register with it (unlike `POST /agent-tokens`, whose
   * default is 1): the embedding program decides.
   */
  createAgentToken(name: string, options?: { maxAgents?: MaxAgents }): Promise<string>;
  /** Whether an agent token secret is one the API accepts (known and not revoked). */
  isAgentTokenActive(token: string): Promise<boolean>;
  /** Creates a service token (e.g. for the Grafana plugin proxy); the secret is returned only here. */
  createServiceToken(name: string, role: ServiceTokenRole): Promise<string>;
  /**
   * Re-reads TLS_CERT_FILE and TLS_KEY_FILE and serves them to new connections (the binary does
   * on SIGHUP; file changes do it by themselves). A bad pair is refused and logged, and the
   * current certificate stays. Without TLS: `not_serving_tls`.
   */
  reloadTls(trigger?: TlsReloadTrigger): Promise<TlsReloadOutcome | { status: 'not_serving_tls' }>;
  /** The API's own log (component `server`), e.g. for the binary's lines. */
  logger: Logger;
  /** Graceful shutdown: closes agent sockets, fails in-flight commands, drains HTTP, stops the database. */
  close(): Promise<void>;
}

type Cleanup = () => Promise<unknown>;

/**
 * Starts the control API: its backing services (PostgreSQL, embedded unless configured; Redis
 * when configured), the control plane (composition.ts), then HTTP and OpAMP on one port.
 */
export async function startControlApi(options: ControlApiOptions = {}): Promise<ControlApi> {
  const config = resolveConfig(options);
  const clock = options.clock ?? systemClock;
  const logOutput = await openLogger(config.log);
  const logger = logOutput.logger.child({ component: 'server' });
  const announce = options.announce ?? ((message: string) => process.stdout.write(`${message}\n`));
  // The log file closes last, after every step that may still log.
  const cleanups: Cleanup[] = [() => logOutput.close()];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      await step().catch((error: unknown) => logger.error('shutdown step failed', { err: error }));
    }
  };

  let plane: ControlPlane | undefined;
  try {
    // A certificate that cannot be served fails the start before any backing service opens.
    const tls = config.tls ? await loadTlsCredentials(config.tls) : undefined;
    const { databaseUrl, ...backing } = await openBackingServices(config, logger, cleanups);
    plane = await buildControlPlane(config, { ...backing, clock, logger });
    const bootstrap = await plane.users.bootstrapAdmin(config.adminUser, config.adminPassword);
    if (bootstrap.generatedPassword) {
      announce(
        `cybercorp-control-api: created admin user "${bootstrap.username}" with password ${bootstrap.generatedPassword} (shown once; set CYBERCORP_ADMIN_PASSWORD to choose it)`,
      );
    }
    await plane.start();

    const { server, reloader } = createListener(config, plane, tls, logger);
    if (reloader) cleanups.push(async () => reloader.close());
    server.on('clientError', answerClientError);
    server.on('upgrade', plane.onUpgrade);
    await listen(server, config.port, config.host);
    reloader?.watch();
    const { port } = server.address() as AddressInfo;
    const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
    const secure = reloader !== undefined;
    const url = `${secure ? 'https' : 'http'}://${hostForUrl}:${port}`;
    const { instanceId, agentTokens, serviceTokens } = plane;
    logger.info('control API listening', {
      url,
      instanceId,
      redis: Boolean(backing.redis),
      ...(tls && { tlsMinVersion: config.tls?.minVersion, fingerprint256: tls.fingerprint256 }),
    });

    const running = plane;
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= stop(server, running).then(cleanup));

    return {
      url,
      opampUrl: `${secure ? 'wss' : 'ws'}://${hostForUrl}:${port}${OPAMP_PATH}`,
      port,
      host: config.host,
      instanceId,
      databaseUrl,
      config,
      admin: {
        username: bootstrap.username,
        password: bootstrap.generatedPassword ?? config.adminPassword,
        created: bootstrap.created,
      },
      createAgentToken: async (name, { maxAgents = UNLIMITED_AGENTS } = {}) =>
        (await agentTokens.create(name, 'system', maxAgents)).token,
      isAgentTokenActive: async (token) =>
        (await agentTokens.authenticate(`Bearer ${token}`)) !== null,
      createServiceToken: async (name, role) =>
        (await serviceTokens.create(name, role, 'system')).token,
      reloadTls: (trigger = 'request') =>
        reloader ? reloader.reload(trigger) : Promise.resolve({ status: 'not_serving_tls' }),
      logger,
      close,
    };
  } catch (error) {
    await plane?.websocket.close();
    await cleanup();
    throw error;
  }
}

/** HTTPS (and WSS) with the certificate, kept current by a TlsReloader; plain HTTP without. */
function createListener(
  config: Config,
  plane: ControlPlane,
  tls: TlsCredentials | undefined,
  logger: Logger,
): { server: Server; reloader?: TlsReloader } {
  if (!tls || !config.tls) return { server: createServer(plane.app) };
  const server = createHttpsServer(secureContextOptions(tls, config.tls), plane.app);
  const reloader = new TlsReloader({ target: server, settings: config.tls, initial: tls, logger });
  return { server, reloader };
}

/** PostgreSQL (migrated) and, when configured, Redis; each pushes its own cleanup. */
async function openBackingServices(
  config: Config,
  logger: Logger,
  cleanups: Cleanup[],
): Promise<Pick<ControlPlaneDeps, 'db' | 'redis'> & { databaseUrl: string }> {
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const embedded = await startEmbeddedPostgres(config.dataDir, { logger });
    cleanups.push(() => embedded.stop());
    databaseUrl = embedded.url;
  }
  const database = createDatabasePool(databaseUrl, logger.child({ component: 'db' }));
  cleanups.push(() => database.end());
  await runMigrations(database.pool);

  if (!config.redisUrl) return { databaseUrl, db: database.pool };
  const client = new Redis(config.redisUrl, REDIS_CLIENT_OPTIONS);
  const subscriber = client.duplicate(REDIS_SUBSCRIBER_OPTIONS);
  client.on('error', (error) => logger.warn('redis error', { err: error }));
  subscriber.on('error', (error) => logger.warn('redis subscriber error', { err: error }));
  // It pings only connections that are ready: it may start before they are.
  const stopWatchdog = watchRedisConnections({ client, subscriber }, logger);
  cleanups.push(async () => {
    stopWatchdog();
    subscriber.disconnect();
    client.disconnect();
  });
  await client.connect();
  await subscriber.connect();
  return { databaseUrl, db: database.pool, redis: { client, subscriber } };
}

/**
 * Graceful shutdown before the backing services close: stop accepting, close agent sockets,
 * fail in-flight commands, drain HTTP, and wait until every command outcome is recorded.
 */
async function stop(server: Server, plane: ControlPlane): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections turn idle as their last response goes out; close them as they do.
  const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  plane.stop();
  await plane.websocket.close();
  plane.relay.failAll();
  const forced = setTimeout(() => server.closeAllConnections(), 5000);
  await drained;
  clearTimeout(forced);
  clearInterval(idleSweep);
  await plane.recorded();
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
