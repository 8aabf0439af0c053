import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { buildApp } from './app.js';
import { ACCESS_TOKEN_TTL_SECONDS, AccessTokens } from './auth/access-tokens.js';
import { CallerAuthenticator } from './auth/caller-authenticator.js';
import { LoginLockout } from './auth/lockout.js';
import { LEGACY_JWT_SECRET_SETTING, loadSigningKeys } from './auth/signing-keys.js';
import { UserAuthenticator } from './auth/user-authenticator.js';
import type { Config } from './config.js';
import type { Clock } from './infra/clock.js';
import type { Logger } from './infra/logger.js';
import { Metrics, type AgentPresenceSample } from './infra/metrics.js';
import { ConnectionGate } from './opamp/connection-gate.js';
import { ConnectionRegistry } from './opamp/connection-registry.js';
import { HttpTransport } from './opamp/http-transport.js';
import { OpampService } from './opamp/opamp-service.js';
import { WebSocketTransport } from './opamp/websocket-transport.js';
import { opampUpgradeListener, type UpgradeListener } from './opamp/websocket-upgrade.js';
import { AgentTokenRepository } from './repositories/agent-tokens.js';
import { AgentRepository } from './repositories/agents.js';
import { AuditRepository } from './repositories/audit.js';
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
import { InMemoryPresence, RedisPresence, type Presence } from './services/presence.js';
import { ServiceTokenService } from './services/service-token-service.js';
import { UserService } from './services/user-service.js';
import { InMemoryWindowSnapshots, RedisWindowSnapshots } from './services/window-snapshots.js';

/** What the control plane runs on; opened and closed by whoever starts it (server.ts). */
export interface ControlPlaneDeps {
  db: pg.Pool;
  /** Connected clients: one for commands, one in subscriber mode for the command bus. */
  redis?: { client: Redis; subscriber: Redis };
  clock: Clock;
  logger: Logger;
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
  /** Starts what has to run before requests arrive: the Redis command bus of a multi-instance API. */
  start(): Promise<void>;
  /** Stops the background work `start` began (before the sockets and the database close). */
  stop(): void;
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
  const userService = new UserService(users);
  const agentTokenRepo = new AgentTokenRepository(db);
  // The transport that holds the sessions is built below: the revocations read it through this.
  const transports: { ws?: WebSocketTransport; http?: HttpTransport } = {};
  const revocations = new AgentTokenRevocations({
    instanceId,
    redis,
    liveTokenIds: () => transports.ws?.liveTokenIds() ?? [],
    revokedAmong: (ids) => agentTokenRepo.revokedAmong(ids),
    logger,
  });
  const agentTokens = new AgentTokenService({
    tokens: agentTokenRepo,
    agents: agentsRepo,
    revocations,
    clock,
    logger,
  });
  const serviceTokens = new ServiceTokenService(new ServiceTokenRepository(db), clock, logger);
  const auth = new AuthService({
    users,
    refreshTokens: new RefreshTokenRepository(db),
    accessTokens,
    lockout: new LoginLockout(clock),
    clock,
  });
  const presence: Presence = redis ? new RedisPresence(redis.client) : new InMemoryPresence(clock);
  const windows = redis ? new RedisWindowSnapshots(redis.client) : new InMemoryWindowSnapshots();
  const directory = new AgentDirectory(agentsRepo, presence);

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
        logger.error('cannot read agent presence for /metrics', { error });
        return undefined;
      }
    },
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
    logger,
    defaultTimeoutMs: config.commandTimeoutMs,
    bus,
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
  const gate = new ConnectionGate({ agentTokens, metrics, clock, logger });
  const websocket = new WebSocketTransport({
    service: opamp,
    gate,
    registry,
    relay,
    presence,
    metrics,
    logger,
    clock,
    heartbeatSeconds: config.heartbeatSeconds,
  });
  const http = new HttpTransport({ service: opamp, gate, metrics, clock });
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
    },
    authenticator: new CallerAuthenticator(new UserAuthenticator(accessTokens), serviceTokens),
    opampHttp: http,
    metrics,
    logger,
    db,
    redis: redis?.client,
  });

  return {
    instanceId,
    app,
    onUpgrade: opampUpgradeListener({ gate, transport: websocket, logger }),
    users: userService,
    agentTokens,
    serviceTokens,
    websocket,
    relay,
    start: async () => {
      await revocations.start();
      await bus?.start({
        onCommand: (m) => relay.onRemoteCommand(m),
        onReply: (m) => relay.onRemoteReply(m),
        onInvalid: (error) => logger.warn('invalid message on the command bus', { error }),
      });
    },
    stop: () => revocations.stop(),
  };
}
