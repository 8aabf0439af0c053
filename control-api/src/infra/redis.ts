import { ReplyError, type Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

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

/** How often the watchdog pings each Redis connection. */
const WATCHDOG_INTERVAL_MS = 1000;

/**
 * Makes a Redis that stopped answering (frozen, or a network that drops packets) look like the
 * lost Redis it is. Such a connection stays "ready" for ioredis, so without this every command
 * would wait its full REDIS_COMMAND_TIMEOUT_MS, one after the other. A ping that times out drops
 * the connection: from then on commands fail at once (no offline queue), the rate limits count
 * in memory, the subscriber's loss ends the relayed commands, and ioredis reconnects until Redis
 * answers again. Returns the function that stops the watchdog.
 */
export function watchRedisConnections(
  connections: Record<string, Redis>,
  logger: Logger,
): () => void {
  const pinging = new Set<Redis>();
  const timer = setInterval(() => {
    for (const [name, connection] of Object.entries(connections)) {
      if (connection.status !== 'ready' || pinging.has(connection)) continue;
      pinging.add(connection);
      connection
        .ping()
        .catch((error: unknown) => {
          if (!(error instanceof Error) || error.message !== 'Command timed out') return;
          if (connection.status !== 'ready') return;
          logger.warn('redis stopped answering; dropping the connection to reconnect', {
            connection: name,
            timeoutMs: REDIS_COMMAND_TIMEOUT_MS,
          });
          connection.disconnect(true);
        })
        .finally(() => pinging.delete(connection));
    }
  }, WATCHDOG_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
