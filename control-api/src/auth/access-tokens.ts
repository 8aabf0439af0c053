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
/** How many verified tokens are remembered; beyond it the oldest are forgotten. */
const VERIFIED_TOKENS_REMEMBERED = 10_000;

export interface UserPrincipal {
  userId: string;
  username: string;
  role: Role;
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
  private readonly verified = new Map<string, { principal: UserPrincipal; expSeconds: number }>();

  constructor(
    private readonly keys: KeyRing,
    private readonly clock: Clock,
    readonly ttlSeconds = ACCESS_TOKEN_TTL_SECONDS,
  ) {}

  async issue(user: UserPrincipal): Promise<string> {
    const now = Math.floor(this.clock.now() / 1000);
    const key = await this.keys.signingKey();
    return new SignJWT({ username: user.username, role: user.role })
      .setProtectedHeader({ alg: 'HS256', typ: ACCESS_TOKEN_TYPE, kid: key.kid })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(user.userId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .sign(key.secret);
  }

  async verify(token: string): Promise<UserPrincipal> {
    const known = this.verified.get(token);
    if (known) {
      // jose's rule: a token is expired once `exp` is not after the current second.
      if (known.expSeconds > Math.floor(this.clock.now() / 1000)) return { ...known.principal };
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
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch {
      throw new ApiError('unauthorized', 'the access token is invalid or expired');
    }
    const role = payload.role;
    if (
      typeof payload.sub !== 'string' ||
      typeof payload.username !== 'string' ||
      !ROLES.includes(role as Role)
    ) {
      throw new ApiError('unauthorized', 'the access token lacks required claims');
    }
    const principal = { userId: payload.sub, username: payload.username, role: role as Role };
    // Only plain tokens like ours are remembered; a not-before claim would need its own check.
    if (typeof payload.exp === 'number' && payload.nbf === undefined) {
      this.remember(token, principal, payload.exp);
    }
    return principal;
  }

  /** A token without a `kid`, or naming a key we do not have (or no longer), is refused. */
  private async keyFor(kid: unknown): Promise<Uint8Array> {
    const secret = typeof kid === 'string' ? await this.keys.verificationKey(kid) : undefined;
    if (!secret) throw new Error('unknown signing key');
    return secret;
  }

  private remember(token: string, principal: UserPrincipal, expSeconds: number): void {
    if (this.verified.size >= VERIFIED_TOKENS_REMEMBERED) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(token, { principal: { ...principal }, expSeconds });
  }
}
