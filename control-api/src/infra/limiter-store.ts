import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

export interface LimiterOptions {
  /** Names the counters in Redis (`cybercorp:<keyPrefix>:<key>`). */
  keyPrefix: string;
  points: number;
  durationSeconds: number;
  /** Once over `points`, the key stays refused this long (0: until the window ends). */
  blockSeconds?: number;
  /** From this count on, a key is refused in memory until its window ends (no store trip). */
  inMemoryBlockOnConsumed?: number;
}

/** Builds a counter for one limit; every limit of an instance shares the same store. */
export type LimiterFactory = (options: LimiterOptions) => RateLimiterAbstract;

/**
 * Counters in Redis when the deployment has one, so that every instance sees the same counts
 * and a restart forgets nothing; in this process otherwise. While Redis is unreachable each
 * instance falls back to counting in memory (never failing the request, never unlimited).
 */
export function limiterFactory(redis: Redis | undefined): LimiterFactory {
  return (options) => {
    const common = {
      keyPrefix: `cybercorp:${options.keyPrefix}`,
      points: options.points,
      duration: options.durationSeconds,
      blockDuration: options.blockSeconds ?? 0,
    };
    if (!redis) return new RateLimiterMemory(common);
    return new RateLimiterRedis({
      ...common,
      storeClient: redis,
      inMemoryBlockOnConsumed: options.inMemoryBlockOnConsumed ?? 0,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(common),
    });
  };
}
