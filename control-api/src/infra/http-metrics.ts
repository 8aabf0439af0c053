import type { RequestHandler } from 'express';
import type { Metrics } from './metrics.js';

/** Counts and times every request under its Express route pattern (never the raw URL). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = process.hrtime.bigint();
    res.on('finish', () => {
      const remembered: unknown = res.locals.routePattern;
      const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
      const route =
        typeof remembered === 'string'
          ? remembered
          : typeof routePath === 'string'
            ? `${req.baseUrl}${routePath}`
            : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - stop) / 1e9);
    });
    next();
  };
}
