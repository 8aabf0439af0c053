import { OPAMP_PATH } from '@cybercorp/protocol';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Authenticator } from './auth/caller-authenticator.js';
import { OTLP_METRICS_PATH, otlpMetricsHandlers } from './ingest/otlp-endpoint.js';
import { errorHandler, notFoundHandler } from './infra/error-handler.js';
import { httpMetrics } from './infra/http-metrics.js';
import type { TrustedProxies } from './infra/client-ip.js';
import type { PinoBackedLogger } from './infra/logger.js';
import { noStore, responseHeaders } from './infra/http-headers.js';
import type { Metrics } from './infra/metrics.js';
import { HEALTH_PATH, METRICS_PATH, READY_PATH } from './infra/operational-paths.js';
import { ApiError, PROBLEM_CONTENT_TYPE, problemOf } from './infra/problem.js';
import { requestLogger } from './infra/request-logger.js';
import type { RequestRateLimiter } from './infra/request-rate-limiter.js';
import type { HttpTransport } from './opamp/http-transport.js';
import { MAX_OPAMP_MESSAGE_BYTES } from './opamp/websocket-transport.js';
import { adminRoutes } from './routes/admin-routes.js';
import { agentRoutes } from './routes/agent-routes.js';
import { agentTokenRoutes } from './routes/agent-token-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { historyRoutes } from './routes/history-routes.js';
import { buildOpenApiDocument } from './routes/openapi.js';
import { recordRoutes } from './routes/record-routes.js';
import { serviceTokenRoutes } from './routes/service-token-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { mountRoutes, type AnyRoute } from './routes/route.js';
import type { RouteServices } from './routes/services.js';

export const API_PREFIX = '/api/v1';
/** `/readyz` answers within a second even when a dependency hangs. */
const READINESS_CHECK_TIMEOUT_MS = 700;
export const API_VERSION = '0.1.0';

export interface AppDeps {
  services: RouteServices;
  authenticator: Authenticator;
  opampHttp: HttpTransport;
  metrics: Metrics;
  logger: PinoBackedLogger;
  db: pg.Pool;
  /** Redis: the client, and the subscriber that receives relayed commands and their replies. */
  redis?: { client: Redis; subscriber: Redis };
  /** The REST request rate limit; none when RATE_LIMIT_PER_MINUTE is 0. */
  rateLimiter?: RequestRateLimiter;
  /** Browser origins given CORS headers (CORS_ORIGINS). */
  corsOrigins?: readonly string[];
  /** Whether the API itself serves TLS: only then does it send HSTS. */
  servesTls?: boolean;
  /** Peers whose X-Forwarded-For names the client (TRUSTED_PROXIES). */
  trustedProxies: TrustedProxies;
}

export function apiRoutes(services: RouteServices): AnyRoute[] {
  return [
    ...authRoutes(services),
    ...adminRoutes(services),
    ...userRoutes(services),
    ...serviceTokenRoutes(services),
    ...agentTokenRoutes(services),
    ...agentRoutes(services),
    ...recordRoutes(services),
    ...historyRoutes(services),
  ];
}

/** The Express application (no listen): REST API, health, metrics and OpAMP over HTTP. */
export function buildApp(deps: AppDeps): Express {
  const app = express();
  const log = deps.logger.child({ component: 'http' });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLogger(log, deps.trustedProxies));
  app.use(httpMetrics(deps.metrics));
  app.use(responseHeaders(deps.corsOrigins ?? [], { hsts: deps.servesTls ?? false }));

  const routes = apiRoutes(deps.services);
  const openapi = buildOpenApiDocument(routes, API_VERSION);
  const api = express.Router();
  api.use(noStore);
  const byAddress = deps.rateLimiter ? [deps.rateLimiter.byAddress()] : [];
  api.get('/openapi.json', ...byAddress, (_req, res) => {
    res.json(openapi);
  });
  mountRoutes(api, routes, {
    authenticator: deps.authenticator,
    audit: deps.services.audit,
    rateLimiter: deps.rateLimiter,
    trustedProxies: deps.trustedProxies,
  });
  // What no route matched is counted by address too, so probing paths is limited as well.
  if (deps.rateLimiter) api.use(deps.rateLimiter.byAddress());
  app.use(API_PREFIX, api);

  app.post(
    OPAMP_PATH,
    express.raw({ type: () => true, limit: MAX_OPAMP_MESSAGE_BYTES }),
    deps.opampHttp.handle,
  );

  app.post(
    OTLP_METRICS_PATH,
    ...otlpMetricsHandlers({
      serviceTokens: deps.services.serviceTokens,
      history: deps.services.history,
      logger: deps.logger.child({ component: 'ingest' }),
    }),
  );

  app.get(HEALTH_PATH, (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get(READY_PATH, async (_req, res) => {
    // Each check gets a short deadline of its own, so that a frozen dependency makes the
    // probe fail fast instead of hanging it; the cause goes to the log, never to the caller.
    const checks: Record<string, string> = {};
    const check = async (name: string, probe: () => Promise<unknown>) => {
      try {
        await withDeadline(probe(), READINESS_CHECK_TIMEOUT_MS);
        checks[name] = 'ok';
      } catch (error) {
        checks[name] = 'unavailable';
        deps.logger.warn('readiness check failed', {
          check: name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    };
    const { redis } = deps;
    await Promise.all([
      check('database', () => deps.db.query('SELECT 1')),
      ...(redis ? [check('redis', () => redisReady(redis))] : []),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    if (ready) {
      res.json({ status: 'ready', checks });
      return;
    }
    const problem = problemOf(
      new ApiError('service_unavailable', 'a dependency is unreachable', { checks }),
    );
    res.status(503).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  });
  app.get(METRICS_PATH, async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.use(notFoundHandler());
  app.use(errorHandler(log));
  return app;
}

/**
 * Redis answers, and the subscriber is connected: without it this instance would miss the
 * commands relayed to it and the replies to its own.
 */
async function redisReady(redis: { client: Redis; subscriber: Redis }): Promise<void> {
  if (redis.subscriber.status !== 'ready') {
    throw new Error(`the Redis subscriber is ${redis.subscriber.status}`);
  }
  await redis.client.ping();
}

/** Settles like `promise`, or rejects once `ms` have passed (the promise itself runs on). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
