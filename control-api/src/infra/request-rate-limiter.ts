import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { UserPrincipal } from '../auth/access-tokens.js';
import { addressKey, clientIp, type TrustedProxies } from './client-ip.js';
import type { LimiterFactory } from './limiter-store.js';
import { ApiError } from './problem.js';

/** The policy name in the RateLimit headers (draft-ietf-httpapi-ratelimit-headers). */
export const RATE_LIMIT_POLICY = 'default';
const WINDOW_SECONDS = 60;

/**
 * The REST request rate: `perMinute` requests per authenticated principal (a user, or a service
 * token whatever Grafana user it names), per address for anonymous callers, counted in a fixed
 * one-minute window shared by every instance through the limiter store. Each answer carries
 * `RateLimit-Policy` and `RateLimit`; one over the limit is 429 `rate_limited` with Retry-After.
 */
export class RequestRateLimiter {
  private readonly counter: RateLimiterAbstract;
  private readonly policyHeader: string;

  constructor(
    store: LimiterFactory,
    readonly perMinute: number,
    private readonly trustedProxies: TrustedProxies,
    private readonly onRefused: () => void = () => undefined,
  ) {
    this.counter = store({
      keyPrefix: 'rest',
      points: perMinute,
      durationSeconds: WINDOW_SECONDS,
      // Once a caller is over, its further requests are refused without a store round trip.
      inMemoryBlockOnConsumed: perMinute + 1,
    });
    this.policyHeader = `"${RATE_LIMIT_POLICY}";q=${perMinute};w=${WINDOW_SECONDS}`;
  }

  /** Counts one request of `principal` (of the caller's address when undefined). */
  async admit(req: Request, res: Response, principal: UserPrincipal | undefined): Promise<void> {
    let result: RateLimiterRes;
    let refused = false;
    try {
      result = await this.counter.consume(this.keyOf(req, principal), 1);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      result = error;
      refused = true;
    }
    const resetSeconds = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
    res.setHeader('RateLimit-Policy', this.policyHeader);
    res.setHeader(
      'RateLimit',
      `"${RATE_LIMIT_POLICY}";r=${Math.max(0, result.remainingPoints)};t=${resetSeconds}`,
    );
    if (!refused) return;
    this.onRefused();
    throw new ApiError(
      'rate_limited',
      `more than ${this.perMinute} requests in a minute; try again later`,
      { retryAfterSeconds: resetSeconds },
    );
  }

  /** The limit for routes that never authenticate, by the caller's address. */
  byAddress(): RequestHandler {
    return (req, res, next) => {
      this.admit(req, res, undefined).then(() => next(), next);
    };
  }

  private keyOf(req: Request, principal: UserPrincipal | undefined): string {
    if (!principal) return `address:${addressKey(clientIp(req, this.trustedProxies))}`;
    const serviceToken = (principal as { serviceToken?: { id: string } }).serviceToken;
    return serviceToken ? `service-token:${serviceToken.id}` : `user:${principal.userId}`;
  }
}
