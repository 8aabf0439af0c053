import { ApiError } from '../infra/problem.js';
import type { AccessTokens, UserPrincipal } from './access-tokens.js';
import { bearerToken } from './bearer.js';
import { AGENT_TOKEN_PREFIX } from './secrets.js';
import type { TokenValidity } from './token-validity.js';

/**
 * Decides who calls a user route: only a valid user access token qualifies, one whose user and
 * session are still current.
 */
export class UserAuthenticator {
  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly validity: TokenValidity,
  ) {}

  async authenticate(authorization: string | undefined): Promise<UserPrincipal> {
    const token = bearerToken(authorization);
    if (!token) throw new ApiError('unauthorized', 'a Bearer access token is required');
    if (token.startsWith(AGENT_TOKEN_PREFIX)) {
      throw new ApiError('unauthorized', 'agent tokens are accepted only on the OpAMP endpoint');
    }
    const claims = await this.accessTokens.verify(token);
    await this.validity.assertCurrent(claims);
    return { userId: claims.userId, username: claims.username, role: claims.role };
  }
}
