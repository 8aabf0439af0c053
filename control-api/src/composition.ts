import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { buildApp } from './app.js';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  AccessTokens,
  CLOCK_SKEW_SECONDS,
} from './auth/access-tokens.js';
import { CallerAuthenticator } from './auth/caller-authenticator.js';
import { LEGACY_JWT_SECRET_SETTING, loadSigningKeys } from './auth/signing-keys.js';
import { TokenValidity } from './auth/token-validity.js';
import { UserAuthenticator } from './auth/user-authenticator.js';
import type { Config } from './config.js';
import { TrustedProxies } from './infra/client-ip.js';
import type { Clock } from './infra/clock.js';
import type { PinoBackedLogger } from './infra/logger.js';
import { Metrics, type AgentPresenceSample } from './infra/metrics.js';
import { ConnectionGate } from './opamp/connection-gate.js';
import { ConnectionLimits } from './opamp/connection-limits.js';
import { ConnectionRegistry } from './opamp/connection-registry.js';
import { HttpTransport } from './opamp/http-transport.js';
import { OpampService } from './opamp/opamp-service.js';
import { WebSocketTransport } from './opamp/websocket-transport.js';
import { opampUpgradeListener, type UpgradeListener } from './opamp/websocket-upgrade.js';
import { createRateLimits } from './rate-limits.js';
import { AgentTokenRepository } from './repositories/agent-tokens.js';
import { AgentRepository } from './repositories/agents.js';
import { AuditRepository } from './repositories/audit.js';
import { EventRepository } from './repositories/events.js';
import { PartitionRepository } from './repositories/history-partitions.js';
import { InventoryRepository } from './repositories/inventory.js';
import { MetricHistoryRepository } from './repositories/metric-history.js';
import { RetentionRepository } from './repositories/retention.js';
import { CommandRepository } from './repositories/commands.js';
import { RefreshTokenRepository } from './repositories/refresh-tokens.js';
import { ServiceTokenRepository } from './repositories/service-tokens.js';
import { SettingsRepository } from './repositories/settings.js';
import { UserRepository } from './repositories/users.js';
import { AgentDirectory } from './services/agent-directory.js';
import { AgentTokenRevocations } from './services/agent-token-revocations.js';
import { AgentTokenService } from './services/agent-token-service.js';
import { AuditService } from './services/audit-service.js';
import { AuthService } from './services/auth-service.js';
import { CommandBus } from './services/command-bus.js';
import { CommandRelay } from './services/command-relay.js';
import { EventService } from './services/event-service.js';
import { HistoryRetention } from './services/history-retention.js';
import { Inventory } from './services/inventory.js';
import { METRICS_TABLE, MetricHistory } from './services/metric-history.js';
import { InMemoryPresence, RedisPresence, type Presence } from './services/presence.js';
import { ServiceTokenService } from './services/service-token-service.js';
import { TokenInvalidationBus } from './services/token-invalidations.js';
import { UserService } from './services/user-service.js';
import { InMemoryWindowSnapshots, RedisWindowSnapshots } from './services/window-snapshots.js';

/** What the control plane runs on; opened and closed by whoever starts it (server.ts). */
export interface ControlPlaneDeps {
  db: pg.Pool;
  /** Connected clients: one for commands, one in subscriber mode for the command bus. */
  redis?: { client: Redis; subscriber: Redis };
  clock: Clock;
  logger: PinoBackedLogger;
}

/** The wired object graph of one API instance: nothing listens yet. */
export interface ControlPlane {
  instanceId: string;
  /** REST API, health, metrics and OpAMP over HTTP, for `http.createServer`. */
  app: Express;
  /** The HTTP server's `upgrade` listener: OpAMP over WebSocket. */
  onUpgrade: UpgradeListener;
  users: UserService;
  agentTokens: AgentTokenService;
  serviceTokens: ServiceTokenService;
  websocket: WebSocketTransport;
  relay: CommandRelay;
  /**
   * Starts what has to run before requests arrive: the Redis command bus and token invalidations
   * of a multi-instance API, and the sessions that ended recently.
   */
  start(): Promise<void>;
  /** Stops the background work `start` began (before the sockets and the database close). */
  stop(): void;
  /**
   * Resolves once what was started so far is written: command outcomes and their replies, the
   * presence events of the agents whose sockets closed and the window lists they sent (shutdown,
   * before the database goes).
   */
  recorded(): Promise<void>;
}

/**
 * The composition root: repositories, services, OpAMP transports and the Express app. Async only
 * because the JWT signing keys are loaded from (or created in) their key file, and the legacy
 * secret is removed from the database.
 */
export async function buildControlPlane(
  config: Config,
  { db, redis, clock, logger }: ControlPlaneDeps,
): Promise<ControlPlane> {
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
  const refreshTokens = new RefreshTokenRepository(db);
  const tokenValidity = new TokenValidity(
    {
      tokenStateOf: (userId) => users.tokenStateOf(userId),
      sessionsRevokedSince: async (since) =>
        (await refreshTokens.revokedSince(since)).map((r) => ({
          sessionId: r.familyId,
          revokedAt: r.revokedAt,
        })),
    },
    clock,
    accessTokens.ttlSeconds + CLOCK_SKEW_SECONDS,
  );
  const invalidations = new TokenInvalidationBus({
    validity: tokenValidity,
    instanceId,
    clock,
    logger,
    redis,
  });
  const userService = new UserService({ users, audit, invalidations, clock });
  const agentTokenRepo = new AgentTokenRepository(db);
  // The transports are built below; the gauges and the revocations read them through this.
  const transports: { ws?: WebSocketTransport; http?: HttpTransport } = {};
  const revocations = new AgentTokenRevocations({
    instanceId,
    redis,
    liveTokenIds: () => transports.ws?.liveTokenIds() ?? [],
    revokedAmong: (ids) => agentTokenRepo.revokedAmong(ids),
    logger: logger.child({ component: 'tokens' }),
  });
  const agentTokens = new AgentTokenService({
    tokens: agentTokenRepo,
    agents: agentsRepo,
    revocations,
    clock,
    logger: logger.child({ component: 'tokens' }),
  });
  const serviceTokens = new ServiceTokenService(
    new ServiceTokenRepository(db),
    clock,
    logger.child({ component: 'tokens' }),
  );
  const presence: Presence = redis ? new RedisPresence(redis.client) : new InMemoryPresence(clock);
  const windows = redis ? new RedisWindowSnapshots(redis.client) : new InMemoryWindowSnapshots();
  const directory = new AgentDirectory(agentsRepo, presence);
  const historyLog = logger.child({ component: 'history' });
  const retention = new HistoryRetention({
    db,
    partitions: new PartitionRepository(db),
    retention: new RetentionRepository(db),
    tables: [METRICS_TABLE, 'processes', 'windows'].map((table) => ({
      table,
      retentionDays: config.historyRetentionDays,
    })),
    auditRetentionDays: config.auditRetentionDays,
    clock,
    logger: historyLog,
  });
  const inventory = new Inventory(
    new InventoryRepository(db),
    config.inventoryIntervalSeconds,
    clock,
    historyLog,
  );
  const history = new MetricHistory(new MetricHistoryRepository(db), retention, inventory);
  const events = new EventService(new EventRepository(db), clock, historyLog);

  // The gauges read the transports, which need the metrics: they are filled in below.
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
        logger.error('cannot read agent presence for /metrics', { err: error });
        return undefined;
      }
    },
  });

  const trustedProxies = TrustedProxies.parse(config.trustedProxies);
  const limits = createRateLimits(config, redis?.client, metrics, trustedProxies);
  const auth = new AuthService({
    users,
    refreshTokens,
    accessTokens,
    loginLimiter: limits.login,
    invalidations,
    onPasswordCheck: (accepted) =>
      metrics.loginPasswordChecks.inc({ outcome: accepted ? 'accepted' : 'rejected' }),
    clock,
  });

  const registry = new ConnectionRegistry();
  const bus = redis ? new CommandBus(redis.client, redis.subscriber, instanceId) : undefined;
  const relay = new CommandRelay({
    instanceId,
    agents: agentsRepo,
    commands,
    presence,
    connections: registry,
    audit,
    metrics,
    clock,
    logger: logger.child({ component: 'relay' }),
    defaultTimeoutMs: config.commandTimeoutMs,
    bus,
  });
  const opampLog = logger.child({ component: 'opamp' });
  const opamp = new OpampService({
    instanceId,
    agents: agentsRepo,
    presence,
    relay,
    windows,
    clock,
    logger: opampLog,
    metrics,
    heartbeatSeconds: config.heartbeatSeconds,
    events,
    inventory,
  });
  const gate = new ConnectionGate({
    agentTokens,
    metrics,
    clock,
    logger: opampLog,
    limits: new ConnectionLimits({
      maxConnections: config.opampMaxConnections,
      maxPendingUpgrades: config.opampMaxPendingUpgrades,
    }),
    onCapacityRefusal: (reason) => metrics.opampRefusedConnections.inc({ reason }),
  });
  const websocket = new WebSocketTransport({
    service: opamp,
    gate,
    registry,
    relay,
    presence,
    metrics,
    logger: opampLog,
    clock,
    heartbeatSeconds: config.heartbeatSeconds,
    messagesPerMinute: config.opampMessagesPerMinute,
    trustedProxies,
  });
  const http = new HttpTransport({ service: opamp, gate, metrics, clock, trustedProxies });
  transports.ws = websocket;
  transports.http = http;
  revocations.onRevoked((tokenId) => websocket.closeSessionsOfToken(tokenId));

  const app = buildApp({
    services: {
      auth,
      users: userService,
      agentTokens,
      serviceTokens,
      agents: directory,
      relay,
      windows,
      audit,
      history,
      inventory,
      events,
    },
    authenticator: new CallerAuthenticator(
      new UserAuthenticator(accessTokens, tokenValidity),
      serviceTokens,
    ),
    opampHttp: http,
    metrics,
    logger,
    db,
    redis,
    rateLimiter: limits.requests,
    corsOrigins: config.corsOrigins,
    servesTls: config.tls !== undefined,
    trustedProxies,
  });

  return {
    instanceId,
    app,
    onUpgrade: opampUpgradeListener({
      gate,
      transport: websocket,
      logger: opampLog,
      trustedProxies,
    }),
    users: userService,
    agentTokens,
    serviceTokens,
    websocket,
    relay,
    start: async () => {
      // Before any request: an export must find today's partition. Expired audit, commands and
      // events are deleted by the hourly round, which may take long over a backlog.
      await retention.preparePartitions();
      retention.start();
      if (redis) watchRedis(redis, { relay, websocket, logger });
      // Subscribed before the ended sessions are read, so that none ends unseen in between.
      await invalidations.start();
      await tokenValidity.start();
      await revocations.start();
      relay.startOrphanSweep();
      await bus?.start({
        onCommand: (m) => relay.onRemoteCommand(m),
        onReply: (m) => relay.onRemoteReply(m),
        onInvalid: (error) => logger.warn('invalid message on the command bus', { err: error }),
      });
    },
    stop: () => {
      revocations.stop();
      retention.stop();
      relay.stop();
    },
    recorded: async () => {
      await Promise.all([relay.recorded(), events.written(), inventory.written()]);
    },
  };
}

/**
 * What this instance does as its Redis connections come and go. The subscriber lost: replies to
 * relayed commands can no longer arrive, so those commands end now (relay.onBusLost). The client
 * back: the presence of the agents connected here is written again at once, since a restarted
 * Redis has forgotten it (otherwise the other instances could not reach them until each one's
 * next heartbeat).
 */
function watchRedis(
  redis: NonNullable<ControlPlaneDeps['redis']>,
  {
    relay,
    websocket,
    logger,
  }: { relay: CommandRelay; websocket: WebSocketTransport; logger: PinoBackedLogger },
): void {
  let lost = false;
  redis.subscriber.on('close', () => relay.onBusLost());
  redis.client.on('close', () => {
    if (!lost) logger.warn('redis connection lost; relayed commands refused until it is back');
    lost = true;
  });
  redis.client.on('ready', () => {
    if (!lost) return;
    lost = false;
    void websocket.renewPresence().then((failed) => {
      logger.info('redis connection back; presence of the agents here written again', { failed });
    });
  });
}
