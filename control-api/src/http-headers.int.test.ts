/** Response headers of the real API: caching, security headers, CORS, gzip, bearer, 431. */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlApi, type ControlApi } from './server.js';
import { getOnFreshConnection } from './test-support/fresh-connection.js';
import { closeSourceAddresses, requestFrom } from './test-support/http-from.js';
import { ApiClient } from './test-support/rest-client.js';
import { ADMIN, startTestApi, type TestApi } from './test-support/test-api.js';

const GRAFANA = 'https://grafana.example.com';

let api: TestApi;
/** The same deployment with a CORS allow-list. */
let withCors: ControlApi;
let admin: ApiClient;

beforeAll(async () => {
  api = await startTestApi();
  withCors = await startControlApi({
    port: 0,
    databaseUrl: api.databaseUrl,
    dataDir: api.dataDir,
    logLevel: 'silent',
    corsOrigins: [GRAFANA, 'http://localhost:3000'],
  });
  admin = new ApiClient(api.url);
  await admin.login(ADMIN.username, ADMIN.password);
});
afterAll(async () => {
  closeSourceAddresses();
  await withCors?.close();
  await api?.stop();
});

const from = '127.0.0.1';
const bearer = () => ({ authorization: `Bearer ${admin.accessToken}` });

describe('caching', () => {
  it('marks every answer that carries a token no-store', async () => {
    const loggedIn = await requestFrom(from, `${api.url}/api/v1/auth/login`, {
      method: 'POST',
      json: ADMIN,
    });
    expect(loggedIn.status).toBe(200);
    const { refreshToken } = loggedIn.json<{ refreshToken: string }>();
    const refreshed = await requestFrom(from, `${api.url}/api/v1/auth/refresh`, {
      method: 'POST',
      json: { refreshToken },
    });
    const agentToken = await requestFrom(from, `${api.url}/api/v1/agent-tokens`, {
      method: 'POST',
      headers: bearer(),
      json: { name: 'no-store-probe' },
    });
    const serviceToken = await requestFrom(from, `${api.url}/api/v1/service-tokens`, {
      method: 'POST',
      headers: bearer(),
      json: { name: 'no-store-probe', role: 'viewer' },
    });
    for (const [name, reply, status] of [
      ['login', loggedIn, 200],
      ['refresh', refreshed, 200],
      ['agent token', agentToken, 201],
      ['service token', serviceToken, 201],
    ] as const) {
      expect(reply.status, name).toBe(status);
      expect(reply.headers['cache-control'], name).toBe('no-store');
    }
    // Refusals from the API are not cached either.
    const refused = await requestFrom(from, `${api.url}/api/v1/me`);
    expect(refused.status).toBe(401);
    expect(refused.headers['cache-control']).toBe('no-store');
  });
});

describe('security headers', () => {
  it('sends the headers of a JSON-only API', async () => {
    for (const path of ['/api/v1/me', '/healthz', '/api/v1/nothing-here']) {
      const reply = await requestFrom(from, `${api.url}${path}`, { headers: bearer() });
      expect(reply.headers['content-security-policy'], path).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
      expect(reply.headers['x-content-type-options'], path).toBe('nosniff');
      expect(reply.headers['x-frame-options'], path).toBe('DENY');
      expect(reply.headers['referrer-policy'], path).toBe('no-referrer');
      expect(reply.headers['x-powered-by'], path).toBeUndefined();
      // Over plain HTTP, HSTS is the terminating proxy's to send (tls.int.test: sent over TLS).
      expect(reply.headers['strict-transport-security'], path).toBeUndefined();
    }
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    requestFrom(from, `${url}/api/v1/me`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
  const corsHeaders = (headers: Record<string, unknown>) =>
    Object.keys(headers).filter((h) => h.startsWith('access-control-'));

  it('sends no CORS header at all without an allow-list', async () => {
    const simple = await requestFrom(from, `${api.url}/api/v1/me`, {
      headers: { ...bearer(), origin: GRAFANA },
    });
    expect(simple.status).toBe(200);
    expect(corsHeaders(simple.headers)).toEqual([]);
    expect(corsHeaders((await preflight(api.url, GRAFANA)).headers)).toEqual([]);
  });

  it('answers a listed origin, and only a listed one', async () => {
    const listed = await preflight(withCors.url, GRAFANA);
    expect(listed.status).toBe(204);
    expect(listed.headers['access-control-allow-origin']).toBe(GRAFANA);
    expect(listed.headers['access-control-allow-headers']).toBe('authorization');
    expect(listed.headers['access-control-allow-methods']).toContain('GET');

    const simple = await requestFrom(from, `${withCors.url}/api/v1/me`, {
      headers: { ...bearer(), origin: GRAFANA },
    });
    expect(simple.status).toBe(200);
    expect(simple.headers['access-control-allow-origin']).toBe(GRAFANA);
    expect(simple.headers['access-control-expose-headers']).toContain('RateLimit');
    expect(simple.headers.vary).toContain('Origin');

    for (const origin of ['https://evil.example.com', `${GRAFANA}.evil.example.com`, 'null']) {
      const refused = await requestFrom(from, `${withCors.url}/api/v1/me`, {
        headers: { ...bearer(), origin },
      });
      expect(corsHeaders(refused.headers), origin).toEqual([]);
      expect(corsHeaders((await preflight(withCors.url, origin)).headers), origin).toEqual([]);
    }
  });
});

describe('compression', () => {
  it('gzips JSON for clients that accept it', async () => {
    const gzipped = await requestFrom(from, `${api.url}/api/v1/openapi.json`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    const document = JSON.parse(gunzipSync(gzipped.raw).toString('utf8')) as { openapi: string };
    expect(document.openapi).toBe('3.1.0');
    const plain = await requestFrom(from, `${api.url}/api/v1/openapi.json`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.raw.length).toBeGreaterThan(gzipped.raw.length);
  });
});

describe('the Authorization header', () => {
  it('takes the bearer scheme in any case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const reply = await requestFrom(from, `${api.url}/api/v1/me`, {
        headers: { authorization: `${scheme} ${admin.accessToken}` },
      });
      expect(reply.status, scheme).toBe(200);
    }
    const basic = await requestFrom(from, `${api.url}/api/v1/me`, {
      headers: { authorization: 'Basic YWRtaW46YWRtaW4=' },
    });
    expect(basic.status).toBe(401);
  });
});

describe('oversized request headers', () => {
  const oversized = () =>
    getOnFreshConnection(`${api.url}/api/v1/me`, { 'x-padding': 'x'.repeat(64 * 1024) });

  it('answers 431 problem+json with a stable code and keeps serving', async () => {
    const reply = await oversized();
    expect(reply.status).toBe(431);
    expect(reply.contentType).toBe('application/problem+json');
    expect(JSON.parse(reply.body)).toMatchObject({
      status: 431,
      code: 'headers_too_large',
      title: 'Headers too large',
    });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });
});
