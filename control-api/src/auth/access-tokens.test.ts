import { SignJWT, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../infra/problem.js';
import { AccessTokens } from './access-tokens.js';
import { keyRingOf, type StoredKey } from './signing-keys.js';

const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
const KID = 'k1';
const ringOf = (
  clock: { now(): number },
  keys: StoredKey[] = [{ kid: KID, secret, createdAt: 0 }],
) => keyRingOf(keys, clock, 900);
const user = {
  userId: '7f1c5a52-7d7e-4b43-9a53-2c1f8d0e9b11',
  username: 'ada',
  role: 'operator' as const,
  sessionId: '0b6f3c1e-3d5a-4f7e-8c2b-9a1d4e6f8b20',
  tokenVersion: 3,
};
/** The claims beyond the registered ones that our access tokens carry. */
const session = { sid: user.sessionId, ver: user.tokenVersion };

/** A token signed by hand with our key, as the API issues one unless `claims` or `header` differ. */
const signedByHand = (
  iat: number,
  exp: number,
  claims: Record<string, unknown> = session,
  header: Record<string, string> = { kid: KID },
) =>
  new SignJWT({ username: 'ada', role: 'viewer', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'access+jwt', ...header })
    .setIssuer('cybercorp-control-api')
    .setAudience('cybercorp-api')
    .setSubject(user.userId)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(secret);

function fakeClock(start: number) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('AccessTokens', () => {
  it('round-trips the principal until the token expires', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const tokens = new AccessTokens(ringOf(clock), clock, 900);
    const token = await tokens.issue(user);
    expect(await tokens.verify(token)).toEqual(user);
    clock.t += 899_000;
    expect(await tokens.verify(token)).toEqual(user);
    clock.t += 2_000;
    expect((await rejection(tokens.verify(token))).code).toBe('unauthorized');
  });

  it('answers a repeat from memory with a copy, and still refuses it from its expiry on', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const tokens = new AccessTokens(ringOf(clock), clock, 60);
    const token = await tokens.issue(user);
    const first = await tokens.verify(token);
    first.role = 'admin';
    expect(await tokens.verify(token)).toEqual(user);
    clock.t += 60_000;
    expect((await rejection(tokens.verify(token))).code).toBe('unauthorized');
    clock.t -= 1_000;
    expect(await tokens.verify(token)).toEqual(user);
  });

  it('refuses tokens of another type, audience, issuer or algorithm', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const tokens = new AccessTokens(ringOf(clock), clock);
    const now = Math.floor(clock.t / 1000);
    const base = () =>
      new SignJWT({ username: 'ada', role: 'admin' })
        .setSubject(user.userId)
        .setIssuedAt(now)
        .setExpirationTime(now + 60);
    const wrongType = await base()
      .setProtectedHeader({ alg: 'HS256', typ: 'refresh+jwt', kid: KID })
      .setIssuer('cybercorp-control-api')
      .setAudience('cybercorp-api')
      .sign(secret);
    const wrongAudience = await base()
      .setProtectedHeader({ alg: 'HS256', typ: 'access+jwt', kid: KID })
      .setIssuer('cybercorp-control-api')
      .setAudience('grafana')
      .sign(secret);
    const wrongIssuer = await base()
      .setProtectedHeader({ alg: 'HS256', typ: 'access+jwt', kid: KID })
      .setIssuer('someone-else')
      .setAudience('cybercorp-api')
      .sign(secret);
    const hs512 = await base()
      .setProtectedHeader({ alg: 'HS512', typ: 'access+jwt' })
      .setIssuer('cybercorp-control-api')
      .setAudience('cybercorp-api')
      .sign(new TextEncoder().encode('0123456789abcdef'.repeat(4)));
    const [header, payload] = (await tokens.issue(user)).split('.');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'access+jwt' })).toString(
      'base64url',
    );
    const algNone = `${noneHeader}.${payload}.`;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'admin' })).toString('base64url')}.AAAA`;
    for (const token of [
      wrongType,
      wrongAudience,
      wrongIssuer,
      hs512,
      algNone,
      tampered,
      'x.y.z',
    ]) {
      expect((await rejection(tokens.verify(token))).code).toBe('unauthorized');
    }
  });

  it('refuses a role outside the role table', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const tokens = new AccessTokens(ringOf(clock), clock);
    const now = Math.floor(clock.t / 1000);
    const token = await signedByHand(now, now + 60, { ...session, role: 'root' });
    expect((await rejection(tokens.verify(token))).code).toBe('unauthorized');
  });

  it('names its key in kid, and refuses a token without one or with an unknown one', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const tokens = new AccessTokens(ringOf(clock), clock);
    const issued = await tokens.issue(user);
    expect(decodeProtectedHeader(issued)).toMatchObject({ alg: 'HS256', kid: KID });
    const now = Math.floor(clock.t / 1000);
    const signed = (header: Record<string, string>) => signedByHand(now, now + 60, session, header);
    expect(await tokens.verify(await signed({ kid: KID }))).toMatchObject({ username: 'ada' });
    for (const token of [await signed({}), await signed({ kid: 'k2' })]) {
      expect((await rejection(tokens.verify(token))).code).toBe('unauthorized');
    }
  });

  it('after a rotation signs with the new key and accepts the old one until its tokens expire', async () => {
    const clock = fakeClock(1_800_000_000_000);
    const before = new AccessTokens(ringOf(clock), clock, 900);
    const old = await before.issue(user);
    const newSecret = new TextEncoder().encode('fedcba9876543210fedcba9876543210');
    const rotated = new AccessTokens(
      ringOf(clock, [
        { kid: KID, secret, createdAt: 0, retiredAt: clock.t },
        { kid: 'k2', secret: newSecret, createdAt: clock.t },
      ]),
      clock,
      900,
    );
    const fresh = await rotated.issue(user);
    expect(decodeProtectedHeader(fresh).kid).toBe('k2');
    clock.t += 600_000;
    expect(await rotated.verify(old)).toEqual(user);
    // Once every token the old key signed has expired, the key itself is no longer accepted.
    clock.t += 361_000;
    const now = Math.floor(clock.t / 1000);
    const lateSigned = await signedByHand(now, now + 60);
    expect((await rejection(rotated.verify(lateSigned))).code).toBe('unauthorized');
  });

  describe('a token signed with our key but wrong about time or session', () => {
    const clock = fakeClock(1_800_000_000_000);
    const tokens = new AccessTokens(ringOf(clock), clock, 900);
    const now = Math.floor(clock.t / 1000);
    const detailOf = async (token: Promise<string>) =>
      (await rejection(tokens.verify(await token))).message;

    it('is accepted when it looks like ours, a little clock skew included', async () => {
      expect(await tokens.verify(await signedByHand(now, now + 900))).toMatchObject({
        username: 'ada',
      });
      expect(await tokens.verify(await signedByHand(now + 60, now + 960))).toMatchObject({
        sessionId: user.sessionId,
        tokenVersion: 3,
      });
    });

    it('is refused when issued in the future', async () => {
      expect(await detailOf(signedByHand(now + 61, now + 900))).toMatch(/in the future/);
      expect(await detailOf(signedByHand(now + 365 * 86_400, now + 365 * 86_400 + 900))).toMatch(
        /in the future/,
      );
    });

    it('is refused when it lives longer than our tokens', async () => {
      expect(await detailOf(signedByHand(now, now + 901))).toMatch(/longer/);
      expect(await detailOf(signedByHand(now, now + 10 * 365 * 86_400))).toMatch(/longer/);
      expect(await detailOf(signedByHand(now - 3600, now + 60))).toMatch(/longer/);
    });

    it('is refused without a session or token version', async () => {
      for (const claims of [
        { sid: user.sessionId },
        { ver: 3 },
        { sid: 7, ver: 3 },
        { sid: 's', ver: 1.5 },
      ]) {
        expect(
          (await rejection(tokens.verify(await signedByHand(now, now + 60, claims)))).code,
        ).toBe('unauthorized');
      }
    });
  });
});
