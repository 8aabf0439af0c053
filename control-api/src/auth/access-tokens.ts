import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Clock } from '../infra/clock.js';
import { ApiError } from '../infra/problem.js';
import { ROLES, type Role } from './permissions.js';
import type { KeyRing } from './signing-keys.js';

export const ACCESS_TOKEN_TYPE = 'access+jwt';
export const TOKEN_ISSUER = 'cybercorp-control-api';
export const TOKEN_AUDIENCE = 'cybercorp-api';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/** How far another instance's clock may run ahead: a token issued there is not yet refused. */
export const CLOCK_SKEW_SECONDS = 60;
/** How many verified tokens are remembered; beyond it the oldest are forgotten. */
const VERIFIED_TOKENS_REMEMBERED = 10_000;

export interface UserPrincipal {
  userId: string;
  username: string;
  role: Role;
}

/**
 * What a user access token says beyond its principal: the session (refresh-token family) it
 * belongs to, and the user's token version when it was issued. Both are checked on every
 * request (token-validity.ts), so a logout or a change to the user ends the token at once.
 */
export interface AccessClaims extends UserPrincipal {
  sessionId: string;
  tokenVersion: number;
}

/**
 * Signs and checks user access tokens (HS256 JWTs naming their key in `kid`). Agent tokens are
 * never JWTs.
 */
export class AccessTokens {
  /**
   * Tokens that passed the full check, with their expiry. A token is immutable and signed, and
   * its validity changes only with the clock, so a repeat is answered without a second HMAC
   * (WebCrypto's per-call key import and thread-pool hop cost more than the rest of a request).
   */
  private readonly verified = new Map<string, { claims: AccessClaims; expSeconds: number }>();

  constructor(
    private readonly keys: KeyRing,
    private readonly clock: Clock,
    readonly ttlSeconds = ACCESS_TOKEN_TTL_SECONDS,
  ) {}

  async issue(user: AccessClaims): Promise<string> {
    const now = Math.floor(this.clock.now() / 1000);
    const key = await this.keys.signingKey();
    const claims = {
      username: user.username,
      role: user.role,
      sid: user.sessionId,
      ver: user.tokenVersion,
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: ACCESS_TOKEN_TYPE, kid: key.kid })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(user.userId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .sign(key.secret);
  }

  /**
   * The claims of a token we signed, if it is unexpired, was not issued in the future, and
   * lives no longer than our tokens do. Whether its user and session are still current is
   * the caller's next check.
   */
  async verify(token: string): Promise<AccessClaims> {
    const now = Math.floor(this.clock.now() / 1000);
    const known = this.verified.get(token);
    if (known) {
      // jose's rule: a token is expired once `exp` is not after the current second.
      if (known.expSeconds > now) return { ...known.claims };
      this.verified.delete(token);
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.keyFor(header.kid), {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        typ: ACCESS_TOKEN_TYPE,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['sub', 'exp', 'iat', 'sid', 'ver'],
      }));
    } catch {
      throw new ApiError('unauthorized', 'the access token is invalid or expired');
    }
    const { sub, username, role, sid, ver, iat, exp } = payload;
    if (
      typeof sub !== 'string' ||
      typeof username !== 'string' ||
      !ROLES.includes(role as Role) ||
      typeof sid !== 'string' ||
      !Number.isSafeInteger(ver) ||
      typeof iat !== 'number' ||
      typeof exp !== 'number'
    ) {
      throw new ApiError('unauthorized', 'the access token lacks required claims');
    }
    // A signed token can still be wrong about time: one issued in the future, or one that
    // outlives our tokens, was not made by this API's issuing code and is refused.
    if (iat > now + CLOCK_SKEW_SECONDS) {
      throw new ApiError('unauthorized', 'the access token was issued in the future');
    }
    if (exp - iat > this.ttlSeconds) {
      throw new ApiError('unauthorized', 'the access token lives longer than access tokens do');
    }
    const claims: AccessClaims = {
      userId: sub,
      username,
      role: role as Role,
      sessionId: sid,
      tokenVersion: ver as number,
    };
    // Only plain tokens like ours are remembered; a not-before claim would need its own check.
    if (payload.nbf === undefined) this.remember(token, claims, exp);
    return claims;
  }

  /** A token without a `kid`, or naming a key we do not have (or no longer), is refused. */
  private async keyFor(kid: unknown): Promise<Uint8Array> {
    const secret = typeof kid === 'string' ? await this.keys.verificationKey(kid) : undefined;
    if (!secret) throw new Error('unknown signing key');
    return secret;
  }

  private remember(token: string, claims: AccessClaims, expSeconds: number): void {
    if (this.verified.size >= VERIFIED_TOKENS_REMEMBERED) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(token, { claims: { ...claims }, expSeconds });
  }
}
