import { randomUUID } from 'node:crypto';
import type { AccessTokens, UserPrincipal } from '../auth/access-tokens.js';
import type { LoginLimiter } from '../auth/login-limiter.js';
import { dummyPasswordHash, verifyPassword } from '../auth/passwords.js';
import { REFRESH_TOKEN_PREFIX, hashToken, newOpaqueToken } from '../auth/secrets.js';
import type { Clock } from '../infra/clock.js';
import { ApiError } from '../infra/problem.js';
import type { RefreshTokenRepository } from '../repositories/refresh-tokens.js';
import type { UserRepository, UserRow } from '../repositories/users.js';
import type { TokenInvalidations } from './token-invalidations.js';

export const REFRESH_TOKEN_TTL_MS = 7 * 24 * 3600_000;

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export class AuthService {
  constructor(
    private readonly deps: {
      users: UserRepository;
      refreshTokens: RefreshTokenRepository;
      accessTokens: AccessTokens;
      loginLimiter: LoginLimiter;
      /** Told of every password verification (the slow argon2 check) and its outcome. */
      onPasswordCheck?: (accepted: boolean) => void;
      invalidations: TokenInvalidations;
      clock: Clock;
    },
  ) {}

  /** Counted against the login limits of `username` and `clientIp` before the password is checked. */
  async login(username: string, password: string, clientIp: string): Promise<TokenPair> {
    const { users, loginLimiter, onPasswordCheck } = this.deps;
    const attempt = await loginLimiter.reserve(username, clientIp);
    let user;
    let ok;
    try {
      user = await users.findByUsername(username);
      ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    } catch (error) {
      // The password was never checked; a failure to give the attempt back must not hide why.
      await attempt.abandoned().catch(() => undefined);
      throw error;
    }
    onPasswordCheck?.(Boolean(user && ok));
    if (!user || !ok) throw new ApiError('invalid_credentials', 'wrong username or password');
    await attempt.succeeded();
    if (user.disabledAt) throw new ApiError('unauthorized', 'this user is disabled');
    return this.issuePair(user, randomUUID());
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const now = new Date(this.deps.clock.now());
    const successor = newOpaqueToken(REFRESH_TOKEN_PREFIX);
    const outcome = await this.deps.refreshTokens.rotate(hashToken(refreshToken), now, {
      id: randomUUID(),
      tokenHash: hashToken(successor),
      expiresAt: new Date(now.getTime() + REFRESH_TOKEN_TTL_MS),
    });
    switch (outcome.kind) {
      case 'reused':
        await this.deps.invalidations.sessionEnded(outcome.familyId);
        throw new ApiError(
          'token_reused',
          'this refresh token was already used; every token of its session is now revoked',
        );
      case 'unknown':
      case 'expired':
      case 'revoked':
        throw new ApiError('unauthorized', `the refresh token is ${outcome.kind}`);
      case 'rotated': {
        const user = await this.deps.users.findById(outcome.userId);
        if (!user) throw new ApiError('unauthorized', 'the user no longer exists');
        if (user.disabledAt) throw new ApiError('unauthorized', 'this user is disabled');
        return {
          accessToken: await this.accessTokenOf(user, outcome.familyId),
          refreshToken: successor,
          tokenType: 'Bearer',
          expiresIn: this.deps.accessTokens.ttlSeconds,
        };
      }
    }
  }

  /** Ends the session of the refresh token: it no longer refreshes, its access tokens stop. */
  async logout(user: UserPrincipal, refreshToken: string): Promise<void> {
    const now = new Date(this.deps.clock.now());
    const session = await this.deps.refreshTokens.revokeFamilyOf(
      hashToken(refreshToken),
      user.userId,
      now,
    );
    if (session) await this.deps.invalidations.sessionEnded(session);
  }

  /** The access token of a session: it names the session and the user's token version. */
  private accessTokenOf(user: UserRow, sessionId: string): Promise<string> {
    return this.deps.accessTokens.issue({
      userId: user.id,
      username: user.username,
      role: user.role,
      sessionId,
      tokenVersion: user.tokenVersion,
    });
  }

  private async issuePair(user: UserRow, familyId: string): Promise<TokenPair> {
    const now = this.deps.clock.now();
    const refreshToken = newOpaqueToken(REFRESH_TOKEN_PREFIX);
    await this.deps.refreshTokens.insert({
      id: randomUUID(),
      userId: user.id,
      familyId,
      tokenHash: hashToken(refreshToken),
      createdAt: new Date(now),
      expiresAt: new Date(now + REFRESH_TOKEN_TTL_MS),
    });
    return {
      accessToken: await this.accessTokenOf(user, familyId),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.deps.accessTokens.ttlSeconds,
    };
  }
}
