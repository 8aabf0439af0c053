import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import { clientIp, type TrustedProxies } from './client-ip.js';
import type { PinoBackedLogger } from './logger.js';
import { routePattern } from './route-pattern.js';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An incoming id is kept when it is short and plain enough to put in a log line and a header. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:+=/-]{1,128}$/;

/** Probes and scrapes: every few seconds, all alike; logged at debug (sampled). */
const PERIODIC_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** The caller's X-Request-Id if sane, else a new UUID; answered in the response header. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id =
    typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/**
 * One line per request as it ends (pino-http): `req` (id, method, url, headers, with
 * authorization and cookies redacted), `res.statusCode`, `route` (the Express pattern) and
 * `durationMs`, and `clientIp` (infra/client-ip.ts: behind a trusted proxy, the forwarded client;
 * `req.remoteAddress` stays the socket peer).
 */
export function requestLogger(
  logger: PinoBackedLogger,
  trustedProxies: TrustedProxies,
): RequestHandler {
  const withRoute = (req: Request, res: Response, value: object) => ({
    ...value,
    route: routePattern(req, res),
  });
  const middleware = pinoHttp<Request, Response>({
    logger: logger.pino,
    genReqId: requestId,
    customAttributeKeys: { responseTime: 'durationMs' },
    customProps: (req) => ({ clientIp: clientIp(req, trustedProxies) }),
    customLogLevel: (req, res, err) => {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode < 400 && PERIODIC_PATHS.has(req.path)) return 'debug';
      return 'info';
    },
    customSuccessObject: withRoute,
    customErrorObject: (req, res, _err, value: object) => withRoute(req, res, value),
    customSuccessMessage: (req, res) => `${req.method} ${routePattern(req, res)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${routePattern(req, res)} ${res.statusCode}`,
  });
  return (req, res, next) => middleware(req, res, next);
}
