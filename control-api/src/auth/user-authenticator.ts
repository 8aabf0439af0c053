import { ApiError } from '../infra/problem.js';
import type { AccessTokens, UserPrincipal } from './access-tokens.js';
import { bearerToken } from './bearer.js';
import { AGENT_TOKEN_PREFIX } from './secrets.js';

/** Decides who calls a user route: only a valid user access token qualifies. */
export class UserAuthenticator {
  constructor(private readonly accessTokens: AccessTokens) {}

  async authenticate(authorization: string | undefined): Promise<UserPrincipal> {
    const token = bearerToken(authorization);
    if (!token) throw new ApiError('unauthorized', 'a Bearer access token is required');
    if (token.startsWith(AGENT_TOKEN_PREFIX)) {
      throw new ApiError('unauthorized', 'agent tokens are accepted only on the OpAMP endpoint');
    }
    return this.accessTokens.verify(token);
  }
}
