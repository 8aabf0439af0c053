import compression from 'compression';
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** Headers a browser may read from a cross-origin answer besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = ['RateLimit', 'RateLimit-Policy', 'Retry-After', 'WWW-Authenticate'];
/** One year, the usual HSTS lifetime; no includeSubDomains: the API does not own its parent domain. */
const HSTS_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;
const JSON_CONTENT_TYPE = /^application\/(?:[\w.-]+\+)?json\b/i;

/**
 * Response headers of every answer: helmet's security headers for a JSON-only API (nothing may
 * be framed, run or loaded from it), CORS for the allowed origins only, gzip of JSON. HSTS only
 * when the API serves TLS itself: over plain HTTP browsers ignore it, and behind a terminating
 * proxy it is the proxy's to send.
 */
export function responseHeaders(
  corsOrigins: readonly string[],
  { hsts }: { hsts: boolean },
): RequestHandler[] {
  const handlers: RequestHandler[] = [
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      },
      xFrameOptions: { action: 'deny' },
      strictTransportSecurity: hsts ? { maxAge: HSTS_MAX_AGE_SECONDS } : false,
    }),
  ];
  if (corsOrigins.length > 0) handlers.push(corsFor(corsOrigins));
  handlers.push(
    compression({
      filter: (req, res) =>
        JSON_CONTENT_TYPE.test(String(res.getHeader('Content-Type') ?? '')) &&
        compression.filter(req, res),
    }),
  );
  return handlers;
}

/** CORS headers only for a listed origin; any other origin gets none at all. */
function corsFor(corsOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(corsOrigins);
  const listed = cors({ origin: true, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 });
  return (req, res, next) => {
    // Answers differ by Origin, so no cache may hand one origin's answer to another.
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin !== undefined && allowed.has(origin)) listed(req, res, next);
    else next();
  };
}

/** Nothing the API answers may be kept by a cache: answers carry tokens and fleet data. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};
