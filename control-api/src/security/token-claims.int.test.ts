/**
 * Access tokens that are validly signed but should not be believed (issue 10): issued in the
 * future, living far longer than the API ever issues them, or naming a user who does not exist.
 * Signed with the API's real key, read from the file it generated, so that only the claims are
 * wrong.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  nowSeconds,
  signedWith,
  startForgery,
  type JsonObject,
} from '../test-support/jwt-forge.js';
import { ApiClient, type Reply } from '../test-support/rest-client.js';
import { startTestApi, type TestApi } from '../test-support/test-api.js';

const YEAR_SECONDS = 365 * 24 * 3600;

let api: TestApi;
let claims: JsonObject;
let signed: (payload: JsonObject) => string;

beforeAll(async () => {
  api = await startTestApi();
  const forgery = await startForgery(api);
  claims = forgery.claims;
  signed = (payload) => signedWith(forgery.key, forgery.header, payload);
});
afterAll(async () => {
  await api?.stop();
});

const me = (token: string) => new ApiClient(api.url, token).request('GET', '/api/v1/me');

function expectRefused(reply: Reply, label: string) {
  expect(reply.status, label).toBe(401);
  expect(reply.contentType, label).toContain('application/problem+json');
  expect(reply.body.code, label).toBe('unauthorized');
}

describe('validly signed tokens with claims the API never issues', () => {
  it('accepts the control: the real claims, re-signed, with a fresh jti', async () => {
    const now = nowSeconds();
    const reply = await me(signed({ ...claims, jti: randomUUID(), iat: now, exp: now + 600 }));
    expect(reply.status).toBe(200);
  });

  it('refuses a token issued a year from now', async () => {
    const iat = nowSeconds() + YEAR_SECONDS;
    expectRefused(await me(signed({ ...claims, iat, exp: iat + 900 })), 'iat a year ahead');
  });

  it('refuses a token that lives ten years', async () => {
    const iat = nowSeconds();
    expectRefused(
      await me(signed({ ...claims, iat, exp: iat + 10 * YEAR_SECONDS })),
      'exp ten years ahead',
    );
  });

  it('refuses a token for a user who does not exist', async () => {
    expectRefused(
      await me(signed({ ...claims, sub: randomUUID(), username: 'ghost', role: 'admin' })),
      'unknown sub',
    );
  });
});
