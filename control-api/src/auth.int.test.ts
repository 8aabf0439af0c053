import { OPAMP_HTTP_CONTENT_TYPE, OPAMP_PATH } from '@cybercorp/protocol';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent } from './test-support/fake-agent.js';
import { ApiClient } from './test-support/rest-client.js';
import { ADMIN, startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

let api: TestApi;
let admin: ApiClient;

beforeAll(async () => ({ api, admin } = await startTestApiWithAdmin()));
afterAll(() => api?.stop());

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('login, refresh and logout', () => {
  it('logs in, describes the caller and rejects a wrong password', async () => {
    const client = new ApiClient(api.url);
    const pair = await client.login(ADMIN.username, ADMIN.password);
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(pair.refreshToken).toMatch(/^ccr_/);
    const me = await client.request('GET', '/api/v1/me');
    expect(me.body).toMatchObject({ username: 'admin', role: 'admin' });
    expect(me.body.permissions).toContain('tokens:admin');

    const wrong = await new ApiClient(api.url).request('POST', '/api/v1/auth/login', {
      username: ADMIN.username,
      password: 'not-the-password',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.contentType).toContain('application/problem+json');
    expect(wrong.body.code).toBe('invalid_credentials');
  });

  it('rotates refresh tokens and revokes the family when a used one comes back', async () => {
    const client = new ApiClient(api.url);
    const first = await client.login(ADMIN.username, ADMIN.password);
    const second = await client.request<{ refreshToken: string; accessToken: string }>(
      'POST',
      '/api/v1/auth/refresh',
      { refreshToken: first.refreshToken },
    );
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);

    const reused = await client.request('POST', '/api/v1/auth/refresh', {
      refreshToken: first.refreshToken,
    });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('token_reused');

    // The thief's reuse revoked the legitimate successor too.
    const successor = await client.request('POST', '/api/v1/auth/refresh', {
      refreshToken: second.body.refreshToken,
    });
    expect(successor.status).toBe(401);
    expect(successor.body.code).toBe('unauthorized');
  });

  it('logs out by revoking the refresh token', async () => {
    const client = new ApiClient(api.url);
    const pair = await client.login(ADMIN.username, ADMIN.password);
    const out = await client.request('POST', '/api/v1/auth/logout', {
      refreshToken: pair.refreshToken,
    });
    expect(out.status).toBe(204);
    const after = await client.request('POST', '/api/v1/auth/refresh', {
      refreshToken: pair.refreshToken,
    });
    expect(after.status).toBe(401);
  });

  it('locks a username out after repeated failures, even for the right password', async () => {
    const viewer = await admin.userClient('lockme', 'viewer');
    expect(viewer.accessToken).toBeDefined();
    const anonymous = new ApiClient(api.url);
    for (let i = 0; i < 5; i++) {
      const reply = await anonymous.request('POST', '/api/v1/auth/login', {
        username: 'lockme',
        password: 'wrong',
      });
      expect(reply.status).toBe(401);
    }
    const locked = await anonymous.request('POST', '/api/v1/auth/login', {
      username: 'lockme',
      password: 'lockme-password-123',
    });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('locked_out');
  });
});

describe('token types and forgeries', () => {
  it('refuses alg:none, a forged signature, a refresh token and no token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: '00000000-0000-4000-8000-000000000000',
      username: 'admin',
      role: 'admin',
      iss: 'cybercorp-control-api',
      aud: 'cybercorp-api',
      iat: now,
      exp: now + 600,
    };
    const none = `${b64({ alg: 'none', typ: 'access+jwt' })}.${b64(claims)}.`;
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'access+jwt' })
      .sign(new TextEncoder().encode('a secret the server never saw, 32+ bytes'));
    const pair = await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
    for (const token of [none, forged, pair.refreshToken, 'garbage']) {
      const reply = await new ApiClient(api.url, token).request('GET', '/api/v1/agents');
      expect(reply.status, token.slice(0, 20)).toBe(401);
      expect(reply.body.code).toBe('unauthorized');
    }
    const anonymous = await new ApiClient(api.url).request('GET', '/api/v1/agents');
    expect(anonymous.status).toBe(401);
  });

  it('never accepts an agent token on user routes', async () => {
    const agentToken = await api.createAgentToken('user-route-probe');
    const reply = await new ApiClient(api.url, agentToken).request('GET', '/api/v1/agents');
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('unauthorized');
  });

  it('never accepts a user JWT at the OpAMP endpoint, on either transport', async () => {
    const wsUrl = api.opampUrl;
    const refusal = await FakeAgent.connect({ url: wsUrl, token: admin.accessToken! }).then(
      () => 0,
      (error: { status?: number }) => error.status,
    );
    expect(refusal).toBe(401);
    const noToken = await FakeAgent.connect({ url: wsUrl, token: '' }).then(
      () => 0,
      (error: { status?: number }) => error.status,
    );
    expect(noToken).toBe(401);
    const http = await fetch(api.url + OPAMP_PATH, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin.accessToken}`,
        'content-type': OPAMP_HTTP_CONTENT_TYPE,
      },
      body: new Uint8Array([0]),
    });
    expect(http.status).toBe(401);

    const agentToken = await api.createAgentToken('ws-probe');
    const agent = await FakeAgent.start({ url: wsUrl, token: agentToken });
    expect(agent.replies).toHaveLength(1);
    await agent.drop();
  });
});

describe('role-based access', () => {
  it('lets a viewer read but refuses actions and administration, auditing the refusal', async () => {
    const viewer = await admin.userClient('vera', 'viewer');
    expect((await viewer.request('GET', '/api/v1/agents')).status).toBe(200);
    expect((await viewer.request('GET', '/api/v1/audit')).status).toBe(200);

    const createUser = await viewer.request('POST', '/api/v1/users', {
      username: 'mallory',
      password: 'long-enough-password',
      role: 'admin',
    });
    expect(createUser.status).toBe(403);
    expect(createUser.body.code).toBe('forbidden');
    expect((await viewer.request('POST', '/api/v1/agent-tokens', { name: 'x' })).status).toBe(403);

    const agentId = '11111111-2222-4333-8444-555555555555';
    const action = await viewer.request(
      'POST',
      `/api/v1/agents/${agentId}/processes/4242/actions`,
      {
        action: 'kill',
        reason: 'testing RBAC',
      },
    );
    expect(action.status).toBe(403);
    expect(action.body.code).toBe('forbidden');
    const windowAction = await viewer.request(
      'POST',
      `/api/v1/agents/${agentId}/windows/0x1/actions`,
      {
        action: 'close',
      },
    );
    expect(windowAction.status).toBe(403);

    const audit = await admin.request<{ items: Record<string, unknown>[] }>(
      'GET',
      `/api/v1/audit?actor=vera&agentId=${agentId}`,
    );
    expect(audit.body.items).toEqual([
      expect.objectContaining({ action: 'window.close', outcome: 'denied', targetId: '0x1' }),
      expect.objectContaining({
        actor: 'vera',
        action: 'process.kill',
        targetType: 'process',
        targetId: '4242',
        agentId,
        reason: 'testing RBAC',
        outcome: 'denied',
        errorCode: 'forbidden',
      }),
    ]);
  });

  it('lets an admin create users (once per name) and agent tokens', async () => {
    const created = await admin.request('POST', '/api/v1/users', {
      username: 'oscar',
      password: 'operator-password',
      role: 'operator',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'oscar', role: 'operator' });
    const again = await admin.request('POST', '/api/v1/users', {
      username: 'oscar',
      password: 'operator-password',
      role: 'operator',
    });
    expect(again.status).toBe(409);
    const token = await admin.request('POST', '/api/v1/agent-tokens', { name: 'host-1' });
    expect(token.status).toBe(201);
    expect(token.body.token).toMatch(/^cca_/);
  });
});
