import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWT_KEY_FILE_NAME, parseKeyFile } from './auth/signing-keys.js';
import { ApiClient, type TokenPair } from './test-support/rest-client.js';
import { ADMIN, startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

let api: TestApi;
let admin: ApiClient;

beforeAll(async () => ({ api, admin } = await startTestApiWithAdmin()));
afterAll(() => api?.stop());

interface UserBody {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  createdAt: string;
}
interface UserPage {
  items: UserBody[];
  nextCursor: string | null;
}

const passwordOf = (username: string) => `${username}-password-123`;

async function createUser(username: string, role: 'viewer' | 'operator' | 'admin') {
  const reply = await admin.request('POST', '/api/v1/users', {
    username,
    password: passwordOf(username),
    role,
  });
  expect(reply.status).toBe(201);
}

async function loggedIn(username: string): Promise<{ client: ApiClient; pair: TokenPair }> {
  const client = new ApiClient(api.url);
  const pair = await client.login(username, passwordOf(username));
  return { client, pair };
}

async function auditOf(targetId: string) {
  const reply = await admin.request<{ items: Record<string, unknown>[] }>(
    'GET',
    `/api/v1/audit?limit=500`,
  );
  return reply.body.items
    .filter((e) => e.targetType === 'user' && e.targetId === targetId)
    .map((e) => ({ actor: e.actor, action: e.action, outcome: e.outcome, errorCode: e.errorCode }))
    .reverse();
}

describe('the users API', () => {
  it('lists users page by page in username order, without secrets', async () => {
    for (const name of ['list-c', 'list-a', 'list-b']) await createUser(name, 'viewer');
    const seen: UserBody[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const reply = await admin.request<UserPage>('GET', `/api/v1/users?limit=2${query}`);
      expect(reply.status).toBe(200);
      expect(reply.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...reply.body.items);
      cursor = reply.body.nextCursor;
      if (!cursor) break;
    }
    const names = seen.map((u) => u.username);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['admin', 'list-a', 'list-b', 'list-c']));
    expect(new Set(names).size).toBe(names.length);
    expect(seen.find((u) => u.username === 'list-a')).toEqual({
      id: expect.any(String),
      username: 'list-a',
      role: 'viewer',
      disabled: false,
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(seen)).not.toMatch(/password|argon2/i);

    const one = await admin.request('GET', '/api/v1/users/list-b');
    expect(one.body).toMatchObject({ username: 'list-b', role: 'viewer', disabled: false });
    const missing = await admin.request('GET', '/api/v1/users/nobody-here');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    for (const query of ['limit=0', 'limit=501', 'cursor=%00', 'role=admin']) {
      expect((await admin.request('GET', `/api/v1/users?${query}`)).status, query).toBe(400);
    }
  });

  it('is for admins only', async () => {
    await createUser('plain-operator', 'operator');
    const { client } = await loggedIn('plain-operator');
    for (const [method, url, body] of [
      ['GET', '/api/v1/users', undefined],
      ['GET', '/api/v1/users/admin', undefined],
      ['PATCH', '/api/v1/users/admin', { role: 'viewer' }],
      ['DELETE', '/api/v1/users/admin', undefined],
    ] as const) {
      const reply = await client.request(method, url, body);
      expect(reply.status, `${method} ${url}`).toBe(403);
      expect(reply.body.code).toBe('forbidden');
    }
    expect((await admin.request('GET', '/api/v1/users/admin')).body.role).toBe('admin');
  });

  it('changes role, disables, enables and resets passwords, auditing each change', async () => {
    await createUser('changing', 'viewer');
    const promoted = await admin.request('PATCH', '/api/v1/users/changing', { role: 'operator' });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({
      username: 'changing',
      role: 'operator',
      disabled: false,
    });

    const disabled = await admin.request('PATCH', '/api/v1/users/changing', { disabled: true });
    expect(disabled.body).toMatchObject({ role: 'operator', disabled: true });
    const refused = await new ApiClient(api.url).request('POST', '/api/v1/auth/login', {
      username: 'changing',
      password: passwordOf('changing'),
    });
    expect(refused.status).toBe(401);

    await admin.request('PATCH', '/api/v1/users/changing', { disabled: false });
    const reset = await admin.request('PATCH', '/api/v1/users/changing', {
      password: 'a-brand-new-password',
    });
    expect(reset.body).toMatchObject({ disabled: false });
    const withOld = await new ApiClient(api.url).request('POST', '/api/v1/auth/login', {
      username: 'changing',
      password: passwordOf('changing'),
    });
    expect(withOld.body.code).toBe('invalid_credentials');
    await new ApiClient(api.url).login('changing', 'a-brand-new-password');

    const noChange = await admin.request('PATCH', '/api/v1/users/changing', {});
    expect(noChange.status).toBe(200);
    for (const body of [
      { role: 'root' },
      { disabled: 'yes' },
      { password: 'short' },
      { name: 'x' },
    ]) {
      const invalid = await admin.request('PATCH', '/api/v1/users/changing', body);
      expect(invalid.status, JSON.stringify(body)).toBe(400);
      expect(invalid.body.code).toBe('validation_failed');
    }
    expect(
      (await admin.request('PATCH', '/api/v1/users/nobody-here', { role: 'admin' })).status,
    ).toBe(404);

    expect(await auditOf('changing')).toEqual([
      { actor: 'admin', action: 'user.create', outcome: 'succeeded', errorCode: null },
      { actor: 'admin', action: 'user.role_change', outcome: 'succeeded', errorCode: null },
      { actor: 'admin', action: 'user.disable', outcome: 'succeeded', errorCode: null },
      { actor: 'admin', action: 'user.enable', outcome: 'succeeded', errorCode: null },
      { actor: 'admin', action: 'user.password_reset', outcome: 'succeeded', errorCode: null },
    ]);
  });

  it('never leaves the instance without an enabled admin', async () => {
    const lastAdmin = { status: 409, code: 'last_admin' };
    const outcome = async (method: string, body?: unknown) => {
      const reply = await admin.request(method, '/api/v1/users/admin', body);
      return { status: reply.status, code: reply.body.code };
    };
    expect(await outcome('DELETE')).toEqual(lastAdmin);
    expect(await outcome('PATCH', { disabled: true })).toEqual(lastAdmin);
    expect(await outcome('PATCH', { role: 'operator' })).toEqual(lastAdmin);
    // Refused as a whole: the password of the same request was not changed either.
    expect(await outcome('PATCH', { role: 'viewer', password: 'never-applied-1' })).toEqual(
      lastAdmin,
    );
    expect((await admin.request('GET', '/api/v1/me')).status).toBe(200);
    await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);

    // With a second enabled admin, one of them may go; then the other is the last one again.
    await createUser('deputy', 'admin');
    const { client: deputy } = await loggedIn('deputy');
    await admin.request('PATCH', '/api/v1/users/deputy', { disabled: true });
    expect(await outcome('PATCH', { role: 'operator' })).toEqual(lastAdmin);
    await admin.request('PATCH', '/api/v1/users/deputy', { disabled: false });
    const deleted = await admin.request('DELETE', '/api/v1/users/deputy');
    expect(deleted.status).toBe(204);
    expect((await deputy.request('GET', '/api/v1/me')).status).toBe(401);
    expect((await admin.request('DELETE', '/api/v1/users/deputy')).status).toBe(404);

    expect(await auditOf('admin')).toEqual(
      [
        'user.delete',
        'user.disable',
        'user.role_change',
        'user.role_change',
        'user.password_reset',
        'user.role_change',
      ].map((action) => ({ actor: 'admin', action, outcome: 'failed', errorCode: 'last_admin' })),
    );
    expect((await auditOf('deputy')).map((e) => e.action)).toEqual([
      'user.create',
      'user.disable',
      'user.enable',
      'user.delete',
    ]);
  });

  it('lets two admins demoting each other at once keep one of them', async () => {
    await createUser('twin-a', 'admin');
    await createUser('twin-b', 'admin');
    // The bootstrap admin steps down to operator first, so that the twins are the only admins.
    const { client: a } = await loggedIn('twin-a');
    const { client: b } = await loggedIn('twin-b');
    expect((await a.request('PATCH', '/api/v1/users/admin', { role: 'operator' })).status).toBe(
      200,
    );
    const [first, second] = await Promise.all([
      a.request('PATCH', '/api/v1/users/twin-b', { role: 'viewer' }),
      b.request('PATCH', '/api/v1/users/twin-a', { role: 'viewer' }),
    ]);
    const statuses = [first.status, second.status].sort();
    // One wins; the other is refused, or (having lost its role first) no longer authorized.
    expect(statuses[0]).toBe(200);
    expect([401, 403, 409]).toContain(statuses[1]);
    const page = await (first.status === 200 ? a : b).request<UserPage>(
      'GET',
      '/api/v1/users?limit=500',
    );
    const admins = page.body.items.filter((u) => u.role === 'admin' && !u.disabled);
    expect(admins.length).toBe(1);
    // Back to the bootstrap admin, for the tests that follow.
    const survivor = first.status === 200 ? a : b;
    expect((await survivor.request('PATCH', '/api/v1/users/admin', { role: 'admin' })).status).toBe(
      200,
    );
    await admin.login(ADMIN.username, ADMIN.password);
  });

  it('lets users change their own password with the current one, ending every session', async () => {
    await createUser('selfie', 'viewer');
    const { client, pair } = await loggedIn('selfie');
    const { client: otherSession } = await loggedIn('selfie');

    const wrong = await client.request('POST', '/api/v1/me/password', {
      oldPassword: 'not-my-password',
      newPassword: 'selfie-new-password',
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe('wrong_password');
    expect((await client.request('GET', '/api/v1/me')).status).toBe(200);

    const changed = await client.request('POST', '/api/v1/me/password', {
      oldPassword: passwordOf('selfie'),
      newPassword: 'selfie-new-password',
    });
    expect(changed.status).toBe(204);
    expect((await client.request('GET', '/api/v1/me')).status).toBe(401);
    expect((await otherSession.request('GET', '/api/v1/me')).status).toBe(401);
    const refresh = await new ApiClient(api.url).request('POST', '/api/v1/auth/refresh', {
      refreshToken: pair.refreshToken,
    });
    expect(refresh.status).toBe(401);
    const old = await new ApiClient(api.url).request('POST', '/api/v1/auth/login', {
      username: 'selfie',
      password: passwordOf('selfie'),
    });
    expect(old.status).toBe(401);
    await new ApiClient(api.url).login('selfie', 'selfie-new-password');

    const tooShort = await admin.request('POST', '/api/v1/me/password', {
      oldPassword: ADMIN.password,
      newPassword: 'short',
    });
    expect(tooShort.body.code).toBe('validation_failed');
    const anonymous = await new ApiClient(api.url).request('POST', '/api/v1/me/password', {
      oldPassword: 'x',
      newPassword: 'long-enough-password',
    });
    expect(anonymous.status).toBe(401);
    const service = await admin
      .as(await api.createServiceToken('selfie-proxy', 'operator'))
      .request('POST', '/api/v1/me/password', {
        oldPassword: 'x',
        newPassword: 'long-enough-password',
      });
    expect(service.status).toBe(403);
    expect((await auditOf('selfie')).map((e) => [e.action, e.outcome, e.errorCode])).toEqual([
      ['user.create', 'succeeded', null],
      ['user.password_change', 'failed', 'wrong_password'],
      ['user.password_change', 'succeeded', null],
    ]);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const document = (
      await admin.request<{ paths: Record<string, Record<string, unknown>> }>(
        'GET',
        '/api/v1/openapi.json',
      )
    ).body;
    expect(Object.keys(document.paths['/api/v1/users'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(document.paths['/api/v1/users/{username}'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'patch',
    ]);
    expect(document.paths['/api/v1/me/password']?.post).toBeDefined();
  });
});

describe('access tokens signed with the real key', () => {
  let claims: Record<string, unknown>;
  let key: { kid: string; secret: Uint8Array };

  beforeAll(async () => {
    const keys = parseKeyFile(
      await readFile(path.join(api.dataDir, JWT_KEY_FILE_NAME), 'utf8'),
      JWT_KEY_FILE_NAME,
    );
    key = keys.at(-1)!;
    claims = decodeJwt(admin.accessToken!);
  });

  const minted = (change: { iat?: number; exp?: number; sub?: string }) => {
    const now = Math.floor(Date.now() / 1000);
    const iat = change.iat ?? now;
    return new SignJWT({
      username: claims.username,
      role: claims.role,
      sid: claims.sid,
      ver: claims.ver,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'access+jwt', kid: key.kid })
      .setIssuer(claims.iss as string)
      .setAudience(claims.aud as string)
      .setSubject(change.sub ?? (claims.sub as string))
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(change.exp ?? iat + 900)
      .sign(key.secret);
  };
  const meWith = async (token: Promise<string>) =>
    (await admin.as(await token).request('GET', '/api/v1/me')).status;

  it('accepts one made like the API makes them (so the refusals below are about the claim)', async () => {
    expect(await meWith(minted({}))).toBe(200);
  });

  it('refuses one issued a year ahead, one valid for ten years, and one for a user that does not exist', async () => {
    const now = Math.floor(Date.now() / 1000);
    const year = 365 * 86_400;
    expect(await meWith(minted({ iat: now + year }))).toBe(401);
    expect(await meWith(minted({ exp: now + 10 * year }))).toBe(401);
    expect(await meWith(minted({ sub: randomUUID() }))).toBe(401);
  });

  it('refuses one for a user that was deleted', async () => {
    await createUser('gone-soon', 'viewer');
    const { client } = await loggedIn('gone-soon');
    const sub = decodeJwt(client.accessToken!).sub!;
    expect((await admin.request('DELETE', '/api/v1/users/gone-soon')).status).toBe(204);
    expect(await meWith(minted({ sub }))).toBe(401);
  });
});
