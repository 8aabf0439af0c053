import { ReplyError, type RedisOptions } from 'ioredis';

/** How long one Redis command may take before it fails (a frozen Redis must not hang a request). */
export const REDIS_COMMAND_TIMEOUT_MS = 3000;

/**
 * Client options that make Redis trouble quick to see: while the connection is down a command
 * fails at once instead of waiting in ioredis' offline queue for a reconnection, and a command
 * on a connection that stopped answering fails after REDIS_COMMAND_TIMEOUT_MS (generous, so
 * that a busy event loop does not fail healthy commands). ioredis keeps reconnecting in the
 * background, and re-subscribes the subscriber's channels once it is back.
 */
export const REDIS_CLIENT_OPTIONS = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
} satisfies RedisOptions;

/**
 * The subscriber keeps ioredis' offline queue: it only subscribes, and the re-subscription
 * ioredis sends on reconnecting must wait for a writable connection rather than fail.
 */
export const REDIS_SUBSCRIBER_OPTIONS = {
  ...REDIS_CLIENT_OPTIONS,
  enableOfflineQueue: true,
} satisfies RedisOptions;

/** Redis could not be reached (down, reconnecting or frozen); routes answer 503 `redis_unavailable`. */
export class RedisUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Redis is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'RedisUnavailableError';
  }
}

/**
 * The result of a Redis call, with a failure to reach Redis as RedisUnavailableError. An answer
 * Redis gave (a ReplyError: a wrong command or script) stays what it is: a bug, not an outage.
 */
export async function fromRedis<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ReplyError) throw error;
    throw new RedisUnavailableError(error);
  }
}
