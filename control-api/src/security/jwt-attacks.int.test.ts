/**
 * RFC 8725 (JSON Web Token Best Current Practices) attacks on the user access tokens, against
 * the real API. Forgeries that need a valid signature are signed with the API's own key, read
 * from the file it generated; a re-signed copy of a real token is accepted first, so that every
 * refusal below is the API's decision and not a broken forge.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OPAMP_HTTP_CONTENT_TYPE, OPAMP_PATH } from '@cybercorp/protocol';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent } from '../test-support/fake-agent.js';
import { getOnFreshConnection } from '../test-support/fresh-connection.js';
import {
  base64url,
  compactJws,
  hmacWith,
  nowSeconds,
  signedWith,
  startForgery,
  type JsonObject,
  type SigningKey,
} from '../test-support/jwt-forge.js';
import { ApiClient, type Reply, type TokenPair } from '../test-support/rest-client.js';
import { ADMIN, startTestApi, type TestApi } from '../test-support/test-api.js';

// The suite sends a few hundred requests at machine speed: test instances must run with a REST
// rate limit far above the production default (RATE_LIMIT_PER_MINUTE, 100 a minute).
let api: TestApi;
let key: SigningKey;
let adminPair: TokenPair;
/** A real admin token's header and claims: the template of every forgery. */
let header: JsonObject;
let claims: JsonObject;
/** Requests to the attacker's key server: the API must never fetch a key a token points to. */
const keyServerHits: string[] = [];
let keyServer: Server;
let keyServerUrl: string;
/** The attacker's public key (set below), served by the key server and put in headers. */
let attackerJwk: JsonObject = {};

beforeAll(async () => {
  api = await startTestApi();
  ({ adminPair, key, header, claims } = await startForgery(api));
  keyServer = createServer((req, res) => {
    keyServerHits.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [attackerJwk] }));
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => keyServer?.close(resolve));
  await api?.stop();
});

/** Signs `payload` under `header` the honest way, with the API's real HS256 key. */
const signedWithRealKey = (h: JsonObject, payload: JsonObject) => signedWith(key, h, payload);

const me = (token: string) => new ApiClient(api.url, token).request('GET', '/api/v1/me');

function expectRefused(reply: Reply, label: string) {
  expect(reply.status, label).toBe(401);
  expect(reply.contentType, label).toContain('application/problem+json');
  expect(reply.body.code, label).toBe('unauthorized');
  expect(reply.headers.get('www-authenticate'), label).toBe('Bearer');
}

async function expectAllRefused(tokens: Record<string, string>) {
  for (const [label, token] of Object.entries(tokens)) expectRefused(await me(token), label);
}

describe('the forge', () => {
  it('is right: a real token re-signed by hand with the real key is accepted', async () => {
    const resigned = signedWithRealKey(header, claims);
    expect(resigned).toBe(adminPair.accessToken);
    const altered = signedWithRealKey(header, { ...claims, jti: 'forged-but-validly-signed' });
    const reply = await me(altered);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ username: 'admin', role: 'admin' });
  });
});

describe('algorithm attacks', () => {
  it('refuses alg none in every spelling, with or without a signature', async () => {
    const realSignature = adminPair.accessToken.split('.')[2]!;
    const tokens: Record<string, string> = {};
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      tokens[`${alg}, empty signature`] = compactJws({ ...header, alg }, claims);
      tokens[`${alg}, real signature`] = compactJws(
        { ...header, alg },
        claims,
        () => realSignature,
      );
      tokens[`${alg}, no kid`] = compactJws({ alg, typ: header.typ }, claims);
    }
    await expectAllRefused(tokens);
  });

  it('refuses asymmetric algorithm names over an HMAC made with the real secret (key confusion)', async () => {
    const tokens: Record<string, string> = {};
    for (const alg of ['RS256', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
      tokens[alg] = compactJws({ ...header, alg }, claims, hmacWith('sha256', key.secret));
    }
    await expectAllRefused(tokens);
  });

  it('refuses HMAC algorithms other than HS256, even with the real secret', async () => {
    await expectAllRefused({
      HS384: compactJws({ ...header, alg: 'HS384' }, claims, hmacWith('sha384', key.secret)),
      HS512: compactJws({ ...header, alg: 'HS512' }, claims, hmacWith('sha512', key.secret)),
      hs256: compactJws({ ...header, alg: 'hs256' }, claims, hmacWith('sha256', key.secret)),
      'HS256 header, HS512 signature': compactJws(header, claims, hmacWith('sha512', key.secret)),
    });
  });

  it('refuses a signature by another key, a stripped signature and altered claims', async () => {
    const other = new TextEncoder().encode('a secret the server never saw, 32+ bytes long');
    const [h, p, signature] = adminPair.accessToken.split('.') as [string, string, string];
    const viewerClaims = { ...claims, role: 'viewer' };
    await expectAllRefused({
      'other HS256 key': compactJws(header, claims, hmacWith('sha256', other)),
      'signature stripped': `${h}.${p}.`,
      'two segments': `${h}.${p}`,
      'signature of another payload': `${h}.${base64url(viewerClaims)}.${signature}`,
      'first character of the signature changed': `${h}.${p}.${changeFirstCharacter(signature)}`,
    });
  });
});

describe('header injection', () => {
  let attackerPrivate: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    attackerPrivate = pair.privateKey;
    attackerJwk = { ...(await exportJWK(pair.publicKey)), kid: 'attacker', alg: 'RS256' };
  });

  const attackerSigned = (extra: JsonObject) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'access+jwt', kid: 'attacker', ...extra })
      .sign(attackerPrivate);

  it('never trusts a key the token brings along (jwk, jku, x5u), nor fetches one', async () => {
    const before = keyServerHits.length;
    await expectAllRefused({
      'embedded jwk': await attackerSigned({ jwk: attackerJwk }),
      jku: await attackerSigned({ jku: `${keyServerUrl}/jwks.json` }),
      x5u: await attackerSigned({ x5u: `${keyServerUrl}/cert.pem` }),
      'jwk with the real kid': await attackerSigned({ jwk: attackerJwk, kid: key.kid }),
      // The HMAC twist: the embedded "key" is a symmetric one the attacker chose.
      'embedded oct jwk, HS256': compactJws(
        { ...header, jwk: { kty: 'oct', k: base64url('attacker-chosen-secret-32-bytes!!') } },
        claims,
        hmacWith('sha256', new TextEncoder().encode('attacker-chosen-secret-32-bytes!!')),
      ),
    });
    expect(keyServerHits.slice(before)).toEqual([]);
  });

  it('ignores those headers on a token the real key signed: the key is chosen by kid alone', async () => {
    const before = keyServerHits.length;
    const token = signedWithRealKey(
      {
        ...header,
        jku: `${keyServerUrl}/jwks.json`,
        x5u: `${keyServerUrl}/x.pem`,
        jwk: attackerJwk,
      },
      claims,
    );
    expect((await me(token)).status).toBe(200);
    expect(keyServerHits.slice(before)).toEqual([]);
  });

  it('refuses critical header extensions it does not understand', async () => {
    await expectAllRefused({
      'unknown crit': signedWithRealKey(
        { ...header, crit: ['x-cybercorp'], 'x-cybercorp': 1 },
        claims,
      ),
      'crit names a missing header': signedWithRealKey({ ...header, crit: ['x-absent'] }, claims),
      'crit names a registered header': signedWithRealKey({ ...header, crit: ['alg'] }, claims),
      'empty crit': signedWithRealKey({ ...header, crit: [] }, claims),
      'unencoded payload (b64: false)': signedWithRealKey(
        { ...header, crit: ['b64'], b64: false },
        claims,
      ),
    });
  });
});

describe('claims', () => {
  it('refuses an expired token and one not valid yet', async () => {
    const now = nowSeconds();
    await expectAllRefused({
      'exp in the past': signedWithRealKey(header, { ...claims, iat: now - 1000, exp: now - 100 }),
      'exp one second ago': signedWithRealKey(header, { ...claims, iat: now - 900, exp: now - 1 }),
      'nbf in an hour': signedWithRealKey(header, { ...claims, nbf: now + 3600 }),
      'exp not a number': signedWithRealKey(header, { ...claims, exp: String(now + 600) }),
    });
  });

  it('refuses another issuer or audience, and tokens without them', async () => {
    const { iss: _iss, ...noIssuer } = claims;
    const { aud: _aud, ...noAudience } = claims;
    await expectAllRefused({
      'wrong issuer': signedWithRealKey(header, { ...claims, iss: 'https://evil.example' }),
      'issuer differs in case': signedWithRealKey(header, {
        ...claims,
        iss: 'CyberCorp-Control-API',
      }),
      'no issuer': signedWithRealKey(header, noIssuer),
      'wrong audience': signedWithRealKey(header, { ...claims, aud: 'grafana' }),
      'audience list without ours': signedWithRealKey(header, { ...claims, aud: ['grafana', 'x'] }),
      'no audience': signedWithRealKey(header, noAudience),
    });
  });

  it('refuses tokens without the claims it relies on, or with a role it does not know', async () => {
    const without = (name: string) => {
      const { [name]: _dropped, ...rest } = claims;
      return signedWithRealKey(header, rest);
    };
    await expectAllRefused({
      'no sub': without('sub'),
      'no exp': without('exp'),
      'no iat': without('iat'),
      'no username': without('username'),
      'no role': without('role'),
      'role superuser': signedWithRealKey(header, { ...claims, role: 'superuser' }),
      'role list': signedWithRealKey(header, { ...claims, role: ['admin'] }),
      'sub not a string': signedWithRealKey(header, { ...claims, sub: 42 }),
    });
  });

  it('refuses another token type (typ) and a missing or unknown kid', async () => {
    const { typ: _typ, ...noTyp } = header;
    const { kid: _kid, ...noKid } = header;
    await expectAllRefused({
      'typ JWT': signedWithRealKey({ ...header, typ: 'JWT' }, claims),
      'typ at+jwt (RFC 9068)': signedWithRealKey({ ...header, typ: 'at+jwt' }, claims),
      'typ refresh+jwt': signedWithRealKey({ ...header, typ: 'refresh+jwt' }, claims),
      'no typ': signedWithRealKey(noTyp, claims),
      'no kid': signedWithRealKey(noKid, claims),
      'unknown kid': signedWithRealKey({ ...header, kid: 'not-a-key-we-have' }, claims),
      'kid as a path': signedWithRealKey({ ...header, kid: '../../../../dev/null' }, claims),
      'kid as SQL': signedWithRealKey({ ...header, kid: "' OR '1'='1" }, claims),
      'kid not a string': signedWithRealKey({ ...header, kid: 0 }, claims),
      // An HMAC with the empty key, which is what a lookup that falls through might use.
      'unknown kid, empty secret': compactJws(
        { ...header, kid: 'missing' },
        claims,
        hmacWith('sha256', new Uint8Array()),
      ),
    });
  });

  it('refuses malformed tokens with problem+json, never a 500', async () => {
    await expectAllRefused({
      garbage: 'garbage',
      'four segments': `${adminPair.accessToken}.x`,
      'header not JSON': `${base64url('{not json')}.${base64url(claims)}.x`,
      'header a JSON array': compactJws(
        [] as unknown as JsonObject,
        claims,
        hmacWith('sha256', key.secret),
      ),
      'payload not JSON': `${base64url(header)}.${base64url('[1,')}.x`,
      'payload a string': `${base64url(header)}.${base64url('"admin"')}.x`,
      'not base64url': `${adminPair.accessToken.slice(0, 10)}*&^%.${base64url(claims)}.x`,
      'empty segments': '..',
    });
  });
});

describe('oversized tokens', () => {
  it('refuses a token longer than any it issues with 401 problem+json', async () => {
    const padded = signedWithRealKey(header, { ...claims, pad: 'x'.repeat(6000) });
    expectRefused(await me(padded), 'validly signed, 8 KB');
    expectRefused(await me(`${adminPair.accessToken}${'A'.repeat(10_000)}`), '10 KB of padding');
  });

  it('answers a 100 KB Authorization header with a 4xx problem+json and keeps serving', async () => {
    const reply = await getOnFreshConnection(`${api.url}/api/v1/me`, {
      authorization: `Bearer ${signedWithRealKey({ ...header, pad: 'x'.repeat(100_000) }, claims)}`,
    });
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(reply.contentType).toContain('application/problem+json');
    expect(typeof (JSON.parse(reply.body) as JsonObject).code).toBe('string');
    expect((await me(adminPair.accessToken)).status).toBe(200);
  });
});

describe('token-type mixing', () => {
  let agentToken: string;
  let serviceToken: string;
  beforeAll(async () => {
    agentToken = await api.createAgentToken('jwt-attacks-agent');
    serviceToken = await api.createServiceToken('jwt-attacks-service', 'operator');
  });

  it('refuses refresh and agent tokens where an access token is expected', async () => {
    const pair = await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
    await expectAllRefused({
      'refresh token': pair.refreshToken,
      'agent token': agentToken,
      'refresh prefix on an access token': `ccr_${pair.accessToken}`,
      'service prefix on an access token': `ccs_${pair.accessToken}`,
      'agent prefix on an access token': `cca_${pair.accessToken}`,
    });
    // Service tokens are user-route credentials by design (their role is matrix-tested).
    expect((await me(serviceToken)).status).toBe(200);
  });

  it('refuses everything but an agent token at /v1/opamp, on both transports', async () => {
    const pair = await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
    const forged = compactJws({ ...header, alg: 'none' }, claims);
    const wrongKinds = {
      'access token': pair.accessToken,
      'refresh token': pair.refreshToken,
      'service token': serviceToken,
      'alg none JWT': forged,
      'agent prefix, not a token': `cca_${'A'.repeat(43)}`,
    };
    for (const [label, token] of Object.entries(wrongKinds)) {
      const upgrade = await FakeAgent.connect({ url: api.opampUrl, token }).then(
        async (agent) => {
          await agent.drop();
          return 101;
        },
        (error: { status?: number }) => error.status,
      );
      expect(upgrade, `${label} over WebSocket`).toBe(401);
      const http = await fetch(api.url + OPAMP_PATH, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': OPAMP_HTTP_CONTENT_TYPE },
        body: new Uint8Array([0]),
      });
      expect(http.status, `${label} over HTTP`).toBe(401);
      expect(http.headers.get('content-type'), label).toContain('application/problem+json');
    }
    const agent = await FakeAgent.start({ url: api.opampUrl, token: agentToken });
    expect(agent.replies).toHaveLength(1);
    await agent.drop();
  });

  it('refuses access, agent and service tokens as refresh tokens', async () => {
    const pair = await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
    const anonymous = new ApiClient(api.url);
    const refusals: Record<string, string> = {};
    for (const [label, refreshToken] of Object.entries({
      'access token': pair.accessToken,
      'agent token': agentToken,
      'service token': serviceToken,
      'refresh prefix, not a token': `ccr_${'A'.repeat(43)}`,
    })) {
      const reply = await anonymous.request('POST', '/api/v1/auth/refresh', { refreshToken });
      expect(reply.contentType, label).toContain('application/problem+json');
      refusals[label] = `${reply.status} ${String(reply.body.code)}`;
    }
    expect(refusals).toEqual({
      // Longer than any refresh token, so refused by the body schema before any lookup.
      'access token': '400 validation_failed',
      'agent token': '401 unauthorized',
      'service token': '401 unauthorized',
      'refresh prefix, not a token': '401 unauthorized',
    });
    // The genuine refresh token of that session still works: the attempts revoked nothing.
    const refreshed = await anonymous.request('POST', '/api/v1/auth/refresh', {
      refreshToken: pair.refreshToken,
    });
    expect(refreshed.status).toBe(200);
  });
});

describe('refresh-token reuse', () => {
  const refresh = (refreshToken: string) =>
    new ApiClient(api.url).request<TokenPair>('POST', '/api/v1/auth/refresh', { refreshToken });

  it('answers a used refresh token with 401 token_reused and revokes its whole family', async () => {
    const first = await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
    const second = await refresh(first.refreshToken);
    expect(second.status).toBe(200);
    const third = await refresh(second.body.refreshToken);
    expect(third.status).toBe(200);

    const reused = await refresh(first.refreshToken);
    expect(reused.status).toBe(401);
    expect(reused.contentType).toContain('application/problem+json');
    expect(reused.body).toMatchObject({ code: 'token_reused' });
    // The newest token of the family, held by the legitimate client or the thief, is dead too.
    const newest = await refresh(third.body.refreshToken);
    expect(newest.status).toBe(401);
    expect(newest.body).toMatchObject({ code: 'unauthorized' });
    // Another session of the same user is not touched.
    const otherSession = await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
    expect((await refresh(otherSession.refreshToken)).status).toBe(200);
  });

  it('lets only one of two concurrent uses of a refresh token through, then revokes the family', async () => {
    const pair = await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
    const replies = await Promise.all([refresh(pair.refreshToken), refresh(pair.refreshToken)]);
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401]);
    const winner = replies.find((r) => r.status === 200)!;
    const loser = replies.find((r) => r.status === 401)!;
    expect(loser.body).toMatchObject({ code: 'token_reused' });
    expect((await refresh(winner.body.refreshToken)).status).toBe(401);
  });

  it("does not let one user's logout revoke another user's session", async () => {
    const victim = await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
    const attacker = new ApiClient(api.url);
    await attacker.login(ADMIN.username, ADMIN.password);
    const created = await attacker.request('POST', '/api/v1/users', {
      username: 'jwt-attacks-mallory',
      password: 'mallory-password-123',
      role: 'viewer',
    });
    expect(created.status).toBe(201);
    const mallory = new ApiClient(api.url);
    await mallory.login('jwt-attacks-mallory', 'mallory-password-123');
    const logout = await mallory.request('POST', '/api/v1/auth/logout', {
      refreshToken: victim.refreshToken,
    });
    expect(logout.status).toBeLessThan(500);
    expect((await refresh(victim.refreshToken)).status).toBe(200);
  });
});

/** The first character: the last one of a 32-byte signature carries padding bits too. */
function changeFirstCharacter(text: string): string {
  return (text.startsWith('A') ? 'B' : 'A') + text.slice(1);
}
