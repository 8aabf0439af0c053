import type { Redis } from 'ioredis';
import { LoginLimiter } from './auth/login-limiter.js';
import type { Config } from './config.js';
import type { TrustedProxies } from './infra/client-ip.js';
import { limiterFactory } from './infra/limiter-store.js';
import type { Metrics } from './infra/metrics.js';
import { RequestRateLimiter } from './infra/request-rate-limiter.js';

export interface RateLimits {
  login: LoginLimiter;
  /** Undefined when RATE_LIMIT_PER_MINUTE is 0. */
  requests: RequestRateLimiter | undefined;
}

/** The instance's limits, counted in Redis when the deployment has one. */
export function createRateLimits(
  config: Config,
  redis: Redis | undefined,
  metrics: Metrics,
  trustedProxies: TrustedProxies,
) {
  const store = limiterFactory(redis);
  const refused = (limit: string) => metrics.rateLimited.inc({ limit });
  return {
    login: new LoginLimiter(store, refused),
    requests:
      config.rateLimitPerMinute > 0
        ? new RequestRateLimiter(store, config.rateLimitPerMinute, trustedProxies, () =>
            refused('rest'),
          )
        : undefined,
  } satisfies RateLimits;
}
