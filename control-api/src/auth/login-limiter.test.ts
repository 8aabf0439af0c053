import { describe, expect, it } from 'vitest';
import { limiterFactory } from '../infra/limiter-store.js';
import { ApiError } from '../infra/problem.js';
import {
  DEFAULT_LOGIN_LIMITS,
  LoginLimiter,
  type LoginLimitName,
  type LoginLimitPolicy,
} from './login-limiter.js';

const policy: LoginLimitPolicy = {
  perUserAndAddress: { attempts: 3, windowSeconds: 600, blockSeconds: 600 },
  perAddress: { attempts: 5, windowSeconds: 3600, blockSeconds: 3600 },
  perUser: { attempts: 4, windowSeconds: 3600, blockSeconds: 0 },
  knownAddressSeconds: 86_400,
};

function limiter() {
  const refusals: LoginLimitName[] = [];
  return {
    refusals,
    limiter: new LoginLimiter(limiterFactory(undefined), (name) => refusals.push(name), policy),
  };
}

async function refusal(attempt: Promise<unknown>): Promise<ApiError> {
  const error: unknown = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

describe('LoginLimiter', () => {
  it('admits at most the per-(user, address) attempts of a concurrent burst', async () => {
    const { limiter: limits, refusals } = limiter();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => limits.reserve('ada', '192.0.2.1')),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(47);
    const reason = (refused[0] as PromiseRejectedResult).reason as ApiError;
    expect(reason.code).toBe('locked_out');
    expect(reason.extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect(reason.extensions.retryAfterSeconds).toBeLessThanOrEqual(600);
    expect(new Set(refusals)).toEqual(new Set(['login_user_address']));
  });

  it('keeps other addresses, and other users on the same address, admitted', async () => {
    const { limiter: limits } = limiter();
    for (let i = 0; i < 3; i++) await limits.reserve('ada', '192.0.2.1');
    expect((await refusal(limits.reserve('ada', '192.0.2.1'))).code).toBe('locked_out');
    await expect(limits.reserve('ada', '192.0.2.2')).resolves.toBeDefined();
    await expect(limits.reserve('bob', '192.0.2.1')).resolves.toBeDefined();
  });

  it('starts the count over after a success and gives an abandoned attempt back', async () => {
    const { limiter: limits } = limiter();
    for (let i = 0; i < 2; i++) await limits.reserve('ada', '192.0.2.1');
    await (await limits.reserve('ada', '192.0.2.1')).succeeded();
    for (let i = 0; i < 2; i++) await (await limits.reserve('ada', '192.0.2.1')).abandoned();
    for (let i = 0; i < 3; i++) await limits.reserve('ada', '192.0.2.1');
    expect((await refusal(limits.reserve('ada', '192.0.2.1'))).code).toBe('locked_out');
  });

  it('limits one address across usernames', async () => {
    const { limiter: limits, refusals } = limiter();
    for (let i = 0; i < 5; i++) await limits.reserve(`user${i}`, '192.0.2.1');
    expect((await refusal(limits.reserve('user9', '192.0.2.1'))).code).toBe('locked_out');
    expect(refusals).toEqual(['login_address']);
    // The refused attempt gave its (user, address) point back: user9 elsewhere is unaffected.
    await expect(limits.reserve('user9', '192.0.2.2')).resolves.toBeDefined();
  });

  it('counts one IPv6 /64 as one address', async () => {
    const { limiter: limits } = limiter();
    for (let i = 1; i <= 3; i++) await limits.reserve('ada', `2001:db8::${i}`);
    expect((await refusal(limits.reserve('ada', '2001:db8::ff'))).code).toBe('locked_out');
  });

  it('limits a username across addresses, except from addresses it logged in from', async () => {
    const { limiter: limits, refusals } = limiter();
    await (await limits.reserve('admin', '198.51.100.7')).succeeded();
    for (let i = 0; i < 4; i++) await limits.reserve('admin', `203.0.113.${i}`);
    expect((await refusal(limits.reserve('admin', '203.0.113.99'))).code).toBe('locked_out');
    expect(refusals).toEqual(['login_user']);
    // The real admin, from where it logged in before, still gets to its password check.
    await expect(limits.reserve('admin', '198.51.100.7')).resolves.toBeDefined();
  });

  it('remembers a known address with the default policy in memory too', async () => {
    // Node caps timers at 2^31-1 ms; a longer in-memory expiry would fire at once.
    const limits = new LoginLimiter(limiterFactory(undefined));
    await (await limits.reserve('admin', '198.51.100.7')).succeeded();
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 0; i < DEFAULT_LOGIN_LIMITS.perUser.attempts; i++) {
      await limits.reserve('admin', `203.0.${Math.floor(i / 200)}.${i % 200}`);
    }
    expect((await refusal(limits.reserve('admin', '203.0.113.250'))).code).toBe('locked_out');
    await expect(limits.reserve('admin', '198.51.100.7')).resolves.toBeDefined();
  });
});
