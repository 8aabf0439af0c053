import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { addressKey } from '../infra/client-ip.js';
import type { LimiterFactory } from '../infra/limiter-store.js';
import { ApiError } from '../infra/problem.js';

export interface LoginLimit {
  /** Attempts counted before the key is refused; a successful login gives its own back. */
  attempts: number;
  windowSeconds: number;
  /** Once over, refused this long (0: until the window ends). */
  blockSeconds: number;
}

export interface LoginLimitPolicy {
  /** One username from one address: the guesses that are ever checked there. */
  perUserAndAddress: LoginLimit;
  /** One address, any usernames: slow guessing across many accounts. */
  perAddress: LoginLimit;
  /**
   * One username from every address it has never logged in from: guessing from many
   * addresses. Addresses that logged in as the user lately are exempt, so an attacker cannot
   * lock the real user out from elsewhere.
   */
  perUser: LoginLimit;
  /** How long a successful login exempts its (username, address) from `perUser`. */
  knownAddressSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimitPolicy = {
  perUserAndAddress: { attempts: 5, windowSeconds: 15 * 60, blockSeconds: 15 * 60 },
  perAddress: { attempts: 100, windowSeconds: 24 * 3600, blockSeconds: 24 * 3600 },
  perUser: { attempts: 100, windowSeconds: 3600, blockSeconds: 0 },
  // In-memory counters expire by timer, and a timer cannot wait more than 24.8 days.
  knownAddressSeconds: 14 * 24 * 3600,
};

export type LoginLimitName = 'login_user_address' | 'login_address' | 'login_user';

/** A login attempt that holds its place in every limit until it is settled. */
export interface LoginAttempt {
  /** The password was right: the failure counts of this user and address start over. */
  succeeded(): Promise<void>;
  /** The password was never checked (e.g. the database failed): the attempt is given back. */
  abandoned(): Promise<void>;
}

/**
 * Limits password guessing (the login-protection pattern of rate-limiter-flexible). An attempt
 * takes its points *before* the password is checked, so concurrent guesses cannot overtake the
 * count: at most `perUserAndAddress.attempts` wrong passwords are ever verified for a
 * (username, address) in a window, however many arrive at once.
 */
export class LoginLimiter {
  private readonly userAndAddress: RateLimiterAbstract;
  private readonly address: RateLimiterAbstract;
  private readonly user: RateLimiterAbstract;
  private readonly knownAddresses: RateLimiterAbstract;

  constructor(
    store: LimiterFactory,
    private readonly onRefused: (limit: LoginLimitName) => void = () => undefined,
    private readonly policy: LoginLimitPolicy = DEFAULT_LOGIN_LIMITS,
  ) {
    const limiter = (keyPrefix: string, limit: LoginLimit) =>
      store({
        keyPrefix,
        points: limit.attempts,
        durationSeconds: limit.windowSeconds,
        blockSeconds: limit.blockSeconds,
      });
    this.userAndAddress = limiter('login:user-address', policy.perUserAndAddress);
    this.address = limiter('login:address', policy.perAddress);
    this.user = limiter('login:user', policy.perUser);
    this.knownAddresses = store({
      keyPrefix: 'login:known-address',
      points: 1,
      durationSeconds: policy.knownAddressSeconds,
    });
  }

  /** Reserves an attempt for `username` from `ip`, or throws 429 `locked_out` with Retry-After. */
  async reserve(username: string, ip: string): Promise<LoginAttempt> {
    const address = addressKey(ip);
    // The address leads: it never contains `|`, so no two pairs share a key.
    const pair = `${address}|${username}`;
    const taken: [RateLimiterAbstract, string][] = [];
    const giveBack = () => Promise.all(taken.map(([limiter, key]) => limiter.reward(key, 1)));
    const take = async (limiter: RateLimiterAbstract, key: string, name: LoginLimitName) => {
      try {
        await limiter.consume(key, 1);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        await giveBack();
        this.onRefused(name);
        throw new ApiError('locked_out', 'too many failed logins; try again later', {
          retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)),
        });
      }
      taken.push([limiter, key]);
    };

    await take(this.userAndAddress, pair, 'login_user_address');
    await take(this.address, address, 'login_address');
    const known = (await this.knownAddresses.get(pair)) !== null;
    if (!known) await take(this.user, username, 'login_user');

    return {
      succeeded: async () => {
        await Promise.all([
          this.userAndAddress.delete(pair),
          ...taken.slice(1).map(([limiter, key]) => limiter.reward(key, 1)),
          this.knownAddresses.set(pair, 1, this.policy.knownAddressSeconds),
        ]);
      },
      abandoned: async () => {
        await giveBack();
      },
    };
  }
}
