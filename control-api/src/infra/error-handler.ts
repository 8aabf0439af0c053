import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isDatabaseUnavailable } from './database-errors.js';
import type { Logger } from './logger.js';
import { ApiError, PROBLEM_CONTENT_TYPE, problemOf } from './problem.js';
import { RedisUnavailableError } from './redis.js';

/** Errors raised by body-parser, by their `type`. */
const BODY_PARSER_ERRORS: Record<string, ApiError['code']> = {
  'entity.too.large': 'payload_too_large',
  'entity.parse.failed': 'malformed_json',
  'encoding.unsupported': 'unsupported_media_type',
  'charset.unsupported': 'unsupported_media_type',
  'entity.verify.failed': 'bad_request',
  'request.aborted': 'bad_request',
  'request.size.invalid': 'bad_request',
  'stream.encoding.set': 'internal_error',
  'stream.not.readable': 'internal_error',
  'parameters.too.many': 'bad_request',
};

/** The one answer for every route when PostgreSQL is down, frozen or too slow. */
export const DATABASE_UNAVAILABLE_DETAIL = 'the database is unavailable; try again shortly';

/** The answer of a route that needs what the instances share in Redis while Redis is away. */
export const REDIS_UNAVAILABLE_DETAIL =
  'Redis, which the instances share, is unavailable from this instance; try again shortly';

function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (isDatabaseUnavailable(error)) {
    return new ApiError('database_unavailable', DATABASE_UNAVAILABLE_DETAIL);
  }
  if (error instanceof RedisUnavailableError) {
    return new ApiError('redis_unavailable', REDIS_UNAVAILABLE_DETAIL);
  }
  const e = error as { type?: unknown; status?: unknown; message?: unknown } | null;
  if (e && typeof e.type === 'string' && e.type in BODY_PARSER_ERRORS) {
    const code = BODY_PARSER_ERRORS[e.type]!;
    const detail = code === 'malformed_json' ? 'the body is not valid JSON' : String(e.message);
    return new ApiError(code, detail);
  }
  // Other 4xx raised by Express itself (e.g. a malformed URI) stay client errors.
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ApiError('bad_request', typeof e.message === 'string' ? e.message : 'bad request');
  }
  return undefined;
}

export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => next(new ApiError('not_found', `no route ${req.method} ${req.path}`));
}

/** The last handler: every error becomes problem+json; only unexpected ones are 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let apiError = toApiError(error);
    if (apiError && !(error instanceof ApiError) && apiError.status === 503) {
      logger.warn(
        apiError.code === 'redis_unavailable' ? 'redis unavailable' : 'database unavailable',
        {
          method: req.method,
          path: req.path,
          error: error instanceof Error ? error.message : String(error),
        },
      );
    }
    if (!apiError) {
      logger.error('unexpected error', { method: req.method, path: req.path, err: error });
      apiError = new ApiError('internal_error', 'unexpected error; it has been logged');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (
      apiError.code === 'database_unavailable' ||
      apiError.code === 'redis_unavailable' ||
      apiError.code === 'relay_unavailable'
    ) {
      res.setHeader('Retry-After', '5');
    }
    // locked_out and rate_limited say when to come back.
    if (typeof apiError.extensions.retryAfterSeconds === 'number') {
      res.setHeader('Retry-After', String(apiError.extensions.retryAfterSeconds));
    }
    if (apiError.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    res
      .status(apiError.status)
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(problemOf(apiError)));
  };
}
