import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { OPAMP_PATH } from '@cybercorp/protocol';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { ACCESS_TOKEN_TTL_SECONDS, AccessTokens } from './auth/access-tokens.js';
import { CallerAuthenticator } from './auth/caller-authenticator.js';
import { LEGACY_JWT_SECRET_SETTING, loadSigningKeys } from './auth/signing-keys.js';
import { UserAuthenticator } from './auth/user-authenticator.js';
import { resolveConfig, type Config, type ControlApiOptions } from './config.js';
import { answerClientError } from './infra/client-error.js';
import { systemClock } from './infra/clock.js';
import { isDatabaseUnavailable } from './infra/database-errors.js';
import { createDatabasePool } from './infra/database-pool.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './infra/embedded-postgres.js';
import { createLogger, type Logger } from './infra/logger.js';
import { Metrics, type AgentPresenceSample } from './infra/metrics.js';
import { runMigrations } from './infra/migrations.js';
import { ApiError, problemOf } from './infra/problem.js';
import { ConnectionRegistry } from './opamp/connection-registry.js';
import { HttpTransport } from './opamp/http-transport.js';
import { OpampService } from './opamp/opamp-service.js';
import { WebSocketTransport } from './opamp/websocket-transport.js';
import { createRateLimits } from './rate-limits.js';
import { AgentRepository } from './repositories/agents.js';
import { AgentTokenRepository } from './repositories/agent-tokens.js';
import { AuditRepository } from './repositories/audit.js';
import { CommandRepository } from './repositories/commands.js';
import { RefreshTokenRepository } from './repositories/refresh-tokens.js';
import { ServiceTokenRepository, type ServiceTokenRole } from './repositories/service-tokens.js';
import { SettingsRepository } from './repositories/settings.js';
import { UserRepository } from './repositories/users.js';
import { AgentDirectory } from './services/agent-directory.js';
import { AgentTokenService } from './services/agent-token-service.js';
import { AuditService } from './services/audit-service.js';
import { AuthService } from './services/auth-service.js';
import { CommandBus } from './services/command-bus.js';
import { CommandRelay } from './services/command-relay.js';
import { InMemoryPresence, RedisPresence, type Presence } from './services/presence.js';
import { ServiceTokenService } from './services/service-token-service.js';
import { UserService } from './services/user-service.js';
import { InMemoryWindowSnapshots, RedisWindowSnapshots } from './services/window-snapshots.js';

export interface ControlApi {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /** WebSocket URL of the OpAMP endpoint. */
  opampUrl: string;
  port: number;
  host: string;
  instanceId: string;
  databaseUrl: string;
  config: Config;
  /** The bootstrap admin's username, and its password when this start generated or was given it. */
  admin: { username: string; password?: string; created: boolean };
  /** Creates an agent token (e.g. for a local agent); the secret is returned only here. */
  createAgentToken(name: string): Promise<string>;
  /** Creates a service token (e.g. for the Grafana plugin proxy); the secret is returned only here. */
  createServiceToken(name: string, role: ServiceTokenRole): Promise<string>;
  /** Graceful shutdown: closes agent sockets, fails in-flight commands, drains HTTP, stops the database. */
  close(): Promise<void>;
}

/** Starts the control API: database (embedded unless configured), migrations, HTTP and OpAMP. */
export async function startControlApi(options: ControlApiOptions = {}): Promise<ControlApi> {
  const config = resolveConfig(options);
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel);
  const announce = options.announce ?? ((message: string) => process.stdout.write(`${message}\n`));
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      await step().catch((error: unknown) => logger.error('shutdown step failed', { error }));
    }
  };

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded: EmbeddedDatabase = await startEmbeddedPostgres(config.dataDir, { logger });
      cleanups.push(() => embedded.stop());
      databaseUrl = embedded.url;
    }
    const database = createDatabasePool(databaseUrl, logger);
    const db = database.pool;
    cleanups.push(() => database.end());
    await runMigrations(db);

    let redis: Redis | undefined;
    let subscriber: Redis | undefined;
    if (config.redisUrl) {
      redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
      subscriber = redis.duplicate();
      redis.on('error', (error) => logger.warn('redis error', { error: error.message }));
      subscriber.on('error', (error) =>
        logger.warn('redis subscriber error', { error: error.message }),
      );
      const [pub, sub] = [redis, subscriber];
      cleanups.push(async () => {
        sub.disconnect();
        pub.disconnect();
      });
      await redis.connect();
      await subscriber.connect();
    }

    const instanceId = randomUUID();
    const settings = new SettingsRepository(db);
    const signingKeys = await loadSigningKeys({
      config,
      clock,
      maxTokenLifetimeSeconds: ACCESS_TOKEN_TTL_SECONDS,
      logger,
      forgetLegacySecret: () => settings.delete(LEGACY_JWT_SECRET_SETTING),
    });
    const accessTokens = new AccessTokens(signingKeys, clock, ACCESS_TOKEN_TTL_SECONDS);
    const users = new UserRepository(db);
    const agentsRepo = new AgentRepository(db);
    const commands = new CommandRepository(db);
    const auditLog = new AuditRepository(db);
    const audit = new AuditService(auditLog, clock);
    const userService = new UserService(users);
    const agentTokens = new AgentTokenService(new AgentTokenRepository(db));
    const serviceTokens = new ServiceTokenService(new ServiceTokenRepository(db), clock, logger);
    const presence: Presence = redis ? new RedisPresence(redis) : new InMemoryPresence(clock);
    const windows = redis ? new RedisWindowSnapshots(redis) : new InMemoryWindowSnapshots();
    const directory = new AgentDirectory(agentsRepo, presence);

    const bootstrap = await userService.bootstrapAdmin(config.adminUser, config.adminPassword);
    if (bootstrap.generatedPassword) {
      announce(
        `cybercorp-control-api: created admin user "${bootstrap.username}" with password ${bootstrap.generatedPassword} (shown once; set CYBERCORP_ADMIN_PASSWORD to choose it)`,
      );
    }

    const transports: { ws?: WebSocketTransport; http?: HttpTransport } = {};
    const metrics = new Metrics({
      pool: db,
      connectionCounts: () => ({
        websocket: transports.ws?.connectionCount ?? 0,
        http: transports.http?.activeCount() ?? 0,
      }),
      agentPresence: async (): Promise<AgentPresenceSample[] | undefined> => {
        try {
          return (await directory.all()).map((a) => ({
            agentId: a.id,
            hostName: a.hostname ?? '',
            online: a.online,
          }));
        } catch (error) {
          logger.error('cannot read agent presence for /metrics', { error });
          return undefined;
        }
      },
    });

    const limits = createRateLimits(config, redis, metrics);
    const auth = new AuthService({
      users,
      refreshTokens: new RefreshTokenRepository(db),
      accessTokens,
      loginLimiter: limits.login,
      onPasswordCheck: (accepted) =>
        metrics.loginPasswordChecks.inc({ outcome: accepted ? 'accepted' : 'rejected' }),
      clock,
    });

    const registry = new ConnectionRegistry();
    const bus = redis && subscriber ? new CommandBus(redis, subscriber, instanceId) : undefined;
    const relay = new CommandRelay({
      instanceId,
      agents: agentsRepo,
      commands,
      presence,
      connections: registry,
      audit,
      metrics,
      clock,
      logger,
      defaultTimeoutMs: config.commandTimeoutMs,
      bus,
    });
    await bus?.start({
      onCommand: (m) => relay.onRemoteCommand(m),
      onReply: (m) => relay.onRemoteReply(m),
      onInvalid: (error) => logger.warn('invalid message on the command bus', { error }),
    });
    const opamp = new OpampService({
      instanceId,
      agents: agentsRepo,
      presence,
      relay,
      windows,
      clock,
      logger,
      heartbeatSeconds: config.heartbeatSeconds,
    });
    const ws = new WebSocketTransport({
      service: opamp,
      registry,
      relay,
      presence,
      metrics,
      logger,
      clock,
      heartbeatSeconds: config.heartbeatSeconds,
    });
    const http = new HttpTransport({ service: opamp, agentTokens, metrics, clock });
    transports.ws = ws;
    transports.http = http;

    const app = buildApp({
      services: {
        auth,
        users: userService,
        agentTokens,
        serviceTokens,
        agents: directory,
        relay,
        windows,
        commands,
        auditLog,
        audit,
      },
      authenticator: new CallerAuthenticator(new UserAuthenticator(accessTokens), serviceTokens),
      opampHttp: http,
      metrics,
      logger,
      db,
      redis,
      rateLimiter: limits.requests,
      corsOrigins: config.corsOrigins,
    });
    const server = createServer(app);
    server.on('clientError', answerClientError);
    server.on('upgrade', (request, socket, head) => {
      void upgradeOpamp(request, socket, head, { agentTokens, ws, logger });
    });
    await listen(server, config.port, config.host);
    const { port } = server.address() as AddressInfo;
    const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${hostForUrl}:${port}`;
    logger.info('control API listening', { url, instanceId, redis: Boolean(redis) });

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive connections turn idle as their last response goes out; close them as they do.
        const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
        server.closeIdleConnections();
        await ws.close();
        relay.failAll();
        const forced = setTimeout(() => server.closeAllConnections(), 5000);
        await drained;
        clearTimeout(forced);
        clearInterval(idleSweep);
        await relay.recorded();
        await cleanup();
      })());

    return {
      url,
      opampUrl: `ws://${hostForUrl}:${port}${OPAMP_PATH}`,
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
      createAgentToken: async (name) => (await agentTokens.create(name, 'system')).token,
      createServiceToken: async (name, role) =>
        (await serviceTokens.create(name, role, 'system')).token,
      close,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
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

/**
 * The one place agent credentials are checked for the WebSocket transport: before the upgrade,
 * so an unauthenticated client gets a plain HTTP 401 and never a socket.
 */
async function upgradeOpamp(
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  deps: { agentTokens: AgentTokenService; ws: WebSocketTransport; logger: Logger },
): Promise<void> {
  socket.on('error', () => socket.destroy());
  try {
    await authenticateAndUpgrade(request, socket, head, deps);
  } catch (error) {
    deps.logger.error('OpAMP upgrade failed', { error });
    socket.destroy();
  }
}

async function authenticateAndUpgrade(
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  deps: { agentTokens: AgentTokenService; ws: WebSocketTransport; logger: Logger },
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path !== OPAMP_PATH) {
    refuseUpgrade(socket, new ApiError('not_found', `no WebSocket endpoint at ${path}`));
    return;
  }
  let token;
  try {
    token = await deps.agentTokens.authenticate(request.headers.authorization);
  } catch (error) {
    const unavailable = isDatabaseUnavailable(error);
    if (unavailable) deps.logger.warn('cannot check an agent token: database unavailable');
    else deps.logger.error('agent authentication failed', { error });
    refuseUpgrade(
      socket,
      new ApiError(
        unavailable ? 'database_unavailable' : 'service_unavailable',
        'cannot check agent tokens right now',
      ),
    );
    return;
  }
  if (!token) {
    refuseUpgrade(socket, new ApiError('unauthorized', 'an agent token is required'));
    return;
  }
  deps.ws.accept(request, socket, head, token);
}

const REASON_PHRASES: Record<number, string> = {
  401: 'Unauthorized',
  404: 'Not Found',
  503: 'Service Unavailable',
};

function refuseUpgrade(socket: Duplex, error: ApiError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(problemOf(error));
  const headers = [
    `HTTP/1.1 ${error.status} ${REASON_PHRASES[error.status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(error.status === 401 ? ['WWW-Authenticate: Bearer'] : []),
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
