import type { UserPrincipal } from './access-tokens.js';
import { bearerToken } from './bearer.js';
import { SERVICE_TOKEN_PREFIX } from './secrets.js';

/** Decides who calls a user route, from its Authorization and X-Grafana-User headers. */
export interface Authenticator {
  authenticate(
    authorization: string | undefined,
    grafanaUser?: readonly string[],
  ): Promise<UserPrincipal>;
}

export interface ServiceTokenVerifier {
  authenticate(token: string, grafanaUser: readonly string[] | undefined): Promise<UserPrincipal>;
}

/**
 * User routes accept a user access token (JWT) or a service token (`ccs_`), which acts with
 * its own role on behalf of the Grafana user the request names. Agent tokens stay refused.
 */
export class CallerAuthenticator implements Authenticator {
  constructor(
    private readonly users: Authenticator,
    private readonly serviceTokens: ServiceTokenVerifier,
  ) {}

  authenticate(
    authorization: string | undefined,
    grafanaUser?: readonly string[],
  ): Promise<UserPrincipal> {
    const token = bearerToken(authorization);
    if (token?.startsWith(SERVICE_TOKEN_PREFIX)) {
      return this.serviceTokens.authenticate(token, grafanaUser);
    }
    return this.users.authenticate(authorization);
  }
}
