/**
 * Access tokens end within a second of the change that ends them, on the instance that made the
 * change and on another one sharing PostgreSQL and a real redis-server, not at their expiry.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlApi } from './server.js';
import { ApiClient, type TokenPair } from './test-support/rest-client.js';
import { ADMIN, type TestApi } from './test-support/test-api.js';
import {
  startAnotherInstance,
  startTwoInstances,
  type TwoInstances,
} from './test-support/two-instances.js';

/** The specified bound: a token stops working within a second of the change. */
const WITHIN_MS = 1000;
const POLL_ATTEMPTS = 100;
const POLL_INTERVAL_MS = 10;

let deployment: TwoInstances;
let first: TestApi;
let second: ControlApi;
let adminOn: { first: ApiClient; second: ApiClient };

beforeAll(async () => {
  deployment = await startTwoInstances();
  ({ first, second } = deployment);
  adminOn = { first: new ApiClient(first.url), second: new ApiClient(second.url) };
  await adminOn.first.login(ADMIN.username, ADMIN.password);
  await adminOn.second.login(ADMIN.username, ADMIN.password);
});
afterAll(async () => {
  await deployment?.stop();
});

type Instance = 'first' | 'second';
const urlOf = (instance: Instance) => (instance === 'first' ? first.url : second.url);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let users = 0;
/** A new user logged in on the first instance; its token works on both. */
async function loggedInUser(role: 'viewer' | 'operator' = 'viewer') {
  const username = `revoked-${++users}`;
  const password = `${username}-password-123`;
  const created = await adminOn.first.request('POST', '/api/v1/users', {
    username,
    password,
    role,
  });
  expect(created.status).toBe(201);
  const pair = await new ApiClient(first.url).login(username, password);
  await expectAccepted(pair.accessToken);
  return { username, password, pair };
}

async function expectAccepted(accessToken: string) {
  for (const instance of ['first', 'second'] as const) {
    const me = await new ApiClient(urlOf(instance), accessToken).request('GET', '/api/v1/me');
    expect(me.status, `accepted on the ${instance} instance`).toBe(200);
  }
}

/** Milliseconds from `since` until the instance refuses the token (bounded polling). */
async function refusedAfter(instance: Instance, accessToken: string, since: number) {
  const client = new ApiClient(urlOf(instance), accessToken);
  for (let attempt = 0; attempt < POLL_ATTEMPTS; attempt++) {
    const me = await client.request('GET', '/api/v1/me');
    if (me.status === 401) {
      expect(me.body.code).toBe('unauthorized');
      return performance.now() - since;
    }
    expect(me.status).toBe(200);
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`the ${instance} instance still accepts the token after ${POLL_ATTEMPTS} tries`);
}

/**
 * Makes the change through `via`, then measures, from the moment the change was sent, how long
 * each instance kept accepting the token.
 */
async function expectEndedWithinASecond(
  accessToken: string,
  via: Instance,
  change: () => Promise<{ status: number }>,
  expectedStatus: number,
) {
  const sent = performance.now();
  expect((await change()).status).toBe(expectedStatus);
  const elapsed = {
    first: await refusedAfter('first', accessToken, sent),
    second: await refusedAfter('second', accessToken, sent),
  };
  expect(elapsed.first, `on the first instance (change via ${via})`).toBeLessThan(WITHIN_MS);
  expect(elapsed.second, `on the second instance (change via ${via})`).toBeLessThan(WITHIN_MS);
}

describe('access tokens end within a second, on every instance', () => {
  it('when the user is disabled', async () => {
    const { username, pair } = await loggedInUser();
    await expectEndedWithinASecond(
      pair.accessToken,
      'first',
      () => adminOn.first.request('PATCH', `/api/v1/users/${username}`, { disabled: true }),
      200,
    );
    const refresh = await new ApiClient(second.url).request('POST', '/api/v1/auth/refresh', {
      refreshToken: pair.refreshToken,
    });
    expect(refresh.status).toBe(401);
  });

  it('when the user is deleted', async () => {
    const { username, pair } = await loggedInUser();
    await expectEndedWithinASecond(
      pair.accessToken,
      'second',
      () => adminOn.second.request('DELETE', `/api/v1/users/${username}`),
      204,
    );
  });

  it('when the role changes; a refresh brings a token with the new role', async () => {
    const { username, pair } = await loggedInUser('operator');
    await expectEndedWithinASecond(
      pair.accessToken,
      'second',
      () => adminOn.second.request('PATCH', `/api/v1/users/${username}`, { role: 'viewer' }),
      200,
    );
    const client = new ApiClient(first.url);
    const refreshed = await client.request<TokenPair>('POST', '/api/v1/auth/refresh', {
      refreshToken: pair.refreshToken,
    });
    expect(refreshed.status).toBe(200);
    for (const instance of ['first', 'second'] as const) {
      const me = await new ApiClient(urlOf(instance), refreshed.body.accessToken).request(
        'GET',
        '/api/v1/me',
      );
      expect(me.body).toMatchObject({ username, role: 'viewer' });
    }
  });

  it('when an admin sets a new password', async () => {
    const { username, pair } = await loggedInUser();
    await expectEndedWithinASecond(
      pair.accessToken,
      'first',
      () =>
        adminOn.first.request('PATCH', `/api/v1/users/${username}`, {
          password: 'set-by-an-admin-1',
        }),
      200,
    );
  });

  it('when the user changes its own password', async () => {
    const { password, pair } = await loggedInUser();
    const self = new ApiClient(second.url, pair.accessToken);
    await expectEndedWithinASecond(
      pair.accessToken,
      'second',
      () =>
        self.request('POST', '/api/v1/me/password', {
          oldPassword: password,
          newPassword: 'chosen-by-myself-1',
        }),
      204,
    );
  });

  it('at logout, for that session only', async () => {
    const { username, password, pair } = await loggedInUser();
    const otherSession = await new ApiClient(second.url).login(username, password);
    const self = new ApiClient(second.url, pair.accessToken);
    await expectEndedWithinASecond(
      pair.accessToken,
      'second',
      () => self.request('POST', '/api/v1/auth/logout', { refreshToken: pair.refreshToken }),
      204,
    );
    await expectAccepted(otherSession.accessToken);
  });

  it('when a reused refresh token revokes its session', async () => {
    const { pair } = await loggedInUser();
    const client = new ApiClient(first.url);
    const rotated = await client.request<TokenPair>('POST', '/api/v1/auth/refresh', {
      refreshToken: pair.refreshToken,
    });
    expect(rotated.status).toBe(200);
    await expectAccepted(rotated.body.accessToken);
    await expectEndedWithinASecond(
      rotated.body.accessToken,
      'first',
      () => client.request('POST', '/api/v1/auth/refresh', { refreshToken: pair.refreshToken }),
      401,
    );
    expect(
      (await new ApiClient(second.url, pair.accessToken).request('GET', '/api/v1/me')).status,
    ).toBe(401);
  });

  it('and an instance started after the logout refuses the token too', async () => {
    const { pair } = await loggedInUser();
    const out = await new ApiClient(first.url, pair.accessToken).request(
      'POST',
      '/api/v1/auth/logout',
      {
        refreshToken: pair.refreshToken,
      },
    );
    expect(out.status).toBe(204);
    const third = await startAnotherInstance(first, deployment.redis.url);
    try {
      const me = await new ApiClient(third.url, pair.accessToken).request('GET', '/api/v1/me');
      expect(me.status).toBe(401);
      expect(
        (await new ApiClient(third.url, adminOn.first.accessToken).request('GET', '/api/v1/me'))
          .status,
      ).toBe(200);
    } finally {
      await third.close();
    }
  });
});
