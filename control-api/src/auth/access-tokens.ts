import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Clock } from '../infra/clock.js';
import { ApiError } from '../infra/problem.js';
import { ROLES, type Role } from './permissions.js';

export const ACCESS_TOKEN_TYPE = 'access+jwt';
export const TOKEN_ISSUER = 'cybercorp-control-api';
export const TOKEN_AUDIENCE = 'cybercorp-api';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

export interface UserPrincipal {
  userId: string;
  username: string;
  role: Role;
}

/** Signs and checks user access tokens (HS256 JWTs). Agent tokens are never JWTs. */
export class AccessTokens {
  constructor(
    private readonly secret: Uint8Array,
    private readonly clock: Clock,
    readonly ttlSeconds = ACCESS_TOKEN_TTL_SECONDS,
  ) {}

  async issue(user: UserPrincipal): Promise<string> {
    const now = Math.floor(this.clock.now() / 1000);
    return new SignJWT({ username: user.username, role: user.role })
      .setProtectedHeader({ alg: 'HS256', typ: ACCESS_TOKEN_TYPE })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(user.userId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .sign(this.secret);
  }

  async verify(token: string): Promise<UserPrincipal> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.secret, {
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
    return { userId: payload.sub, username: payload.username, role: role as Role };
  }
}
