import type { RequestHandler } from 'express';
import type { Metrics } from './metrics.js';
import { routePattern } from './route-pattern.js';

/** Counts and times every request under its Express route pattern (never the raw URL). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = process.hrtime.bigint();
    res.on('finish', () => {
      const labels = {
        method: req.method,
        route: routePattern(req, res),
        status: String(res.statusCode),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - stop) / 1e9);
    });
    next();
  };
}
