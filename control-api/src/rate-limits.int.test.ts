/**
 * Login and REST rate limits on two instances sharing PostgreSQL and a real redis-server, with
 * clients on several loopback source addresses (each address is one client to the limits), and
 * one of them (GATEWAY) a trusted proxy whose X-Forwarded-For names the client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOGIN_LIMITS } from './auth/login-limiter.js';
import { DEFAULT_RATE_LIMIT_PER_MINUTE } from './config.js';
import type { ControlApi } from './server.js';
import { closeSourceAddresses, requestFrom, type RawReply } from './test-support/http-from.js';
import { ApiClient } from './test-support/rest-client.js';
import { ADMIN, type TestApi } from './test-support/test-api.js';
import { startTwoInstances, type TwoInstances } from './test-support/two-instances.js';

let deployment: TwoInstances;
let first: TestApi;
let second: ControlApi;
let admin: ApiClient;

/** The one source address the instances trust as a proxy (TRUSTED_PROXIES). */
const GATEWAY = '127.0.0.2';

beforeAll(async () => {
  deployment = await startTwoInstances({
    rateLimitPerMinute: DEFAULT_RATE_LIMIT_PER_MINUTE,
    trustedProxies: [GATEWAY],
  });
  ({ first, second } = deployment);
  admin = new ApiClient(first.url);
  await admin.login(ADMIN.username, ADMIN.password);
});
afterAll(async () => {
  closeSourceAddresses();
  await deployment?.stop();
});

/** Every test is its own set of clients: its own loopback addresses, never 127.0.0.1. */
let nextAddress = 10;
const freshAddress = () => `127.0.0.${nextAddress++}`;
const instances = () => [first.url, second.url];

async function createUser(username: string): Promise<string> {
  const password = `${username}-password-123`;
  const created = await admin.request('POST', '/api/v1/users', {
    username,
    password,
    role: 'viewer',
  });
  expect(created.status).toBe(201);
  return password;
}

const login = (from: string, url: string, username: string, password: string) =>
  requestFrom(from, `${url}/api/v1/auth/login`, {
    method: 'POST',
    json: { username, password },
  });

/** Password verifications so far, summed over both instances, from their /metrics. */
async function passwordChecks(): Promise<{ accepted: number; rejected: number }> {
  const total = { accepted: 0, rejected: 0 };
  for (const url of instances()) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const outcome of ['accepted', 'rejected'] as const) {
      const line = new RegExp(
        `^cybercorp_login_password_checks_total\\{outcome="${outcome}"\\} (\\d+)$`,
        'm',
      ).exec(text);
      if (!line) throw new Error(`no ${outcome} password check series in ${url}/metrics`);
      total[outcome] += Number(line[1]);
    }
  }
  return total;
}

function expectRetryAfter(reply: RawReply): number {
  const seconds = Number(reply.headers['retry-after']);
  expect(
    Number.isInteger(seconds) && seconds > 0,
    `Retry-After ${reply.headers['retry-after']}`,
  ).toBe(true);
  return seconds;
}

describe('logins', () => {
  it('checks at most the allowed wrong passwords of a 199-guess burst; the owner elsewhere logs in', async () => {
    const password = await createUser('burst-target');
    const attacker = freshAddress();
    const owner = freshAddress();
    const before = await passwordChecks();

    const guesses = Array.from({ length: 199 }, (_, i) =>
      login(attacker, instances()[i % 2]!, 'burst-target', `wrong-guess-${i}`),
    );
    const rightOne = login(owner, second.url, 'burst-target', password);
    const [replies, ownerReply] = await Promise.all([Promise.all(guesses), rightOne]);

    expect(ownerReply.status).toBe(200);
    expect(ownerReply.json()).toMatchObject({ tokenType: 'Bearer' });
    const after = await passwordChecks();
    const allowed = DEFAULT_LOGIN_LIMITS.perUserAndAddress.attempts;
    expect(after.rejected - before.rejected).toBe(allowed);
    expect(after.accepted - before.accepted).toBe(1);

    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(allowed);
    expect(statuses.filter((s) => s === 429)).toHaveLength(199 - allowed);
    for (const refused of replies.filter((r) => r.status === 429)) {
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(['locked_out', 'rate_limited']).toContain(refused.json().code);
      expectRetryAfter(refused);
    }
    // The guesser's address stays locked out for this user even with the right password.
    const stillLocked = await login(attacker, first.url, 'burst-target', password);
    expect(stillLocked.status).toBe(429);
  });

  it('shares the failure count between instances through Redis', async () => {
    const password = await createUser('shared-count');
    const from = freshAddress();
    for (let i = 0; i < DEFAULT_LOGIN_LIMITS.perUserAndAddress.attempts; i++) {
      const wrong = await login(from, first.url, 'shared-count', 'not-it');
      expect(wrong.status).toBe(401);
    }
    const locked = await login(from, second.url, 'shared-count', password);
    expect(locked.status).toBe(429);
    expect(locked.json()).toMatchObject({ code: 'locked_out', status: 429 });
    const retryAfter = expectRetryAfter(locked);
    expect(retryAfter).toBeLessThanOrEqual(DEFAULT_LOGIN_LIMITS.perUserAndAddress.blockSeconds);
  });

  it('starts the count over after a successful login', async () => {
    const password = await createUser('forgetful');
    const from = freshAddress();
    const allowed = DEFAULT_LOGIN_LIMITS.perUserAndAddress.attempts;
    for (let i = 0; i < allowed - 1; i++) {
      expect((await login(from, first.url, 'forgetful', 'typo')).status).toBe(401);
    }
    expect((await login(from, second.url, 'forgetful', password)).status).toBe(200);
    for (let i = 0; i < allowed - 1; i++) {
      expect((await login(from, first.url, 'forgetful', 'typo')).status).toBe(401);
    }
    expect((await login(from, first.url, 'forgetful', password)).status).toBe(200);
  });
});

describe('REST request rate', () => {
  const limit = DEFAULT_RATE_LIMIT_PER_MINUTE;

  /** `limit` requests of one principal spread over both instances, then one more. */
  async function exhaust(
    token: string,
    from: string,
  ): Promise<{ replies: RawReply[]; over: RawReply }> {
    const replies: RawReply[] = [];
    for (let i = 0; i < limit; i++) {
      replies.push(
        await requestFrom(from, `${instances()[i % 2]}/api/v1/me`, {
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    }
    const over = await requestFrom(from, `${second.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { replies, over };
  }

  it('refuses the 101st request of a principal in a minute, across both instances', async () => {
    let outcome: { replies: RawReply[]; over: RawReply } | undefined;
    // A window is one minute from a principal's first request; should one ever end inside a
    // run (seen in the RateLimit header: the quota came back), a fresh principal tries again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const username = `rate-${attempt}`;
      const password = await createUser(username);
      const token = (await login(freshAddress(), first.url, username, password)).json<{
        accessToken: string;
      }>().accessToken;
      outcome = await exhaust(token, freshAddress());
      const remaining = outcome.replies.map(
        (r) => /;r=(\d+);/.exec(String(r.headers.ratelimit))?.[1],
      );
      const sameWindow = remaining.every((r, i) => Number(r) === limit - 1 - i);
      if (sameWindow) break;
    }
    const { replies, over } = outcome!;
    expect(replies.map((r) => r.status)).toEqual(Array<number>(limit).fill(200));
    expect(replies[0]!.headers['ratelimit-policy']).toBe(`"default";q=${limit};w=60`);
    expect(replies[0]!.headers.ratelimit).toMatch(new RegExp(`^"default";r=${limit - 1};t=\\d+$`));
    expect(replies.at(-1)!.headers.ratelimit).toMatch(/^"default";r=0;t=\d+$/);

    expect(over.status).toBe(429);
    expect(over.headers['content-type']).toContain('application/problem+json');
    expect(over.json()).toMatchObject({ code: 'rate_limited', status: 429 });
    const retryAfter = expectRetryAfter(over);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(over.headers.ratelimit).toBe(`"default";r=0;t=${retryAfter}`);
  });

  it('counts principals apart: another user on the same address is still served', async () => {
    const password = await createUser('rate-neighbour');
    const from = freshAddress();
    const token = (await login(from, first.url, 'rate-neighbour', password)).json<{
      accessToken: string;
    }>().accessToken;
    const exhausted = await exhaust(token, from);
    expect(exhausted.over.status).toBe(429);
    const other = await requestFrom(from, `${first.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${admin.accessToken}` },
    });
    expect(other.status).toBe(200);
  });

  it('counts anonymous calls, refused credentials included, by address', async () => {
    const from = freshAddress();
    const calls = [
      () => requestFrom(from, `${first.url}/api/v1/openapi.json`),
      () =>
        requestFrom(from, `${second.url}/api/v1/me`, {
          headers: { authorization: 'Bearer not-a-token' },
        }),
      () =>
        requestFrom(from, `${first.url}/api/v1/auth/refresh`, {
          method: 'POST',
          json: { refreshToken: 'ccr_unknown' },
        }),
      () => requestFrom(from, `${second.url}/api/v1/no-such-route`),
    ];
    const statuses: number[] = [];
    for (let i = 0; i < limit; i++) statuses.push((await calls[i % calls.length]!()).status);
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    for (const call of calls) {
      const over = await call();
      expect(over.status).toBe(429);
      expect(over.json().code).toBe('rate_limited');
      expectRetryAfter(over);
    }
    // Another address is another anonymous caller.
    expect((await requestFrom(freshAddress(), `${first.url}/api/v1/openapi.json`)).status).toBe(
      200,
    );
  });

  it('never limits /healthz, /readyz or /metrics', async () => {
    const from = freshAddress();
    for (let i = 0; i <= limit; i++) await requestFrom(from, `${first.url}/api/v1/openapi.json`);
    expect((await requestFrom(from, `${first.url}/api/v1/openapi.json`)).status).toBe(429);
    for (const endpoint of ['/healthz', '/readyz', '/metrics']) {
      for (let i = 0; i < 2 * limit; i++) {
        const reply = await requestFrom(from, `${instances()[i % 2]}${endpoint}`);
        expect(reply.status, `${endpoint} #${i}`).toBe(200);
        expect(reply.headers.ratelimit).toBeUndefined();
      }
    }
  });
});

describe('behind a trusted proxy', () => {
  const limit = DEFAULT_RATE_LIMIT_PER_MINUTE;
  /** Documentation addresses (RFC 5737): only ever header values, never a socket. */
  let nextClient = 1;
  const forwardedClient = () => `203.0.113.${nextClient++}`;
  let calls = 0;
  /** An anonymous call, to either instance in turn. */
  const anonymous = (from: string, forwardedFor?: string) =>
    requestFrom(from, `${instances()[calls++ % 2]}/api/v1/openapi.json`, {
      headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    });

  it('counts anonymous calls by the forwarded address when the gateway sends them', async () => {
    const client = forwardedClient();
    const other = forwardedClient();
    for (let i = 0; i < limit; i++) expect((await anonymous(GATEWAY, client)).status).toBe(200);
    expect((await anonymous(GATEWAY, client)).status).toBe(429);
    // The gateway's other clients are not the one over its limit.
    expect((await anonymous(GATEWAY, other)).status).toBe(200);
    // A client cannot escape by forging addresses to the left of what the gateway appended.
    expect((await anonymous(GATEWAY, `198.51.100.9, ${client}`)).status).toBe(429);
    expect((await anonymous(GATEWAY, `${client}, ${forwardedClient()}`)).status).toBe(200);
  });

  it('ignores X-Forwarded-For from a peer that is not trusted', async () => {
    const spoofer = freshAddress();
    // A new forged address on every call changes nothing: the peer is what is counted.
    for (let i = 0; i < limit; i++) {
      expect((await anonymous(spoofer, forwardedClient())).status).toBe(200);
    }
    expect((await anonymous(spoofer, forwardedClient())).status).toBe(429);
    // Nor can it blame someone else: the address it names is still served through the gateway.
    const victim = forwardedClient();
    const blamer = freshAddress();
    for (let i = 0; i <= limit; i++) await anonymous(blamer, victim);
    expect((await anonymous(GATEWAY, victim)).status).toBe(200);
  });

  it('locks out the forwarded client at login, not everyone behind the gateway', async () => {
    const password = await createUser('behind-gateway');
    const guesser = forwardedClient();
    const owner = forwardedClient();
    const loginVia = (client: string, attempt: string) =>
      requestFrom(GATEWAY, `${first.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'x-forwarded-for': client },
        json: { username: 'behind-gateway', password: attempt },
      });
    for (let i = 0; i < DEFAULT_LOGIN_LIMITS.perUserAndAddress.attempts; i++) {
      expect((await loginVia(guesser, 'wrong')).status).toBe(401);
    }
    expect((await loginVia(guesser, password)).status).toBe(429);
    expect((await loginVia(owner, password)).status).toBe(200);
  });
});
