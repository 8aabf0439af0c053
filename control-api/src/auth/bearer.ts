/** The longest credential taken from an Authorization header; JWTs here are far shorter. */
export const MAX_BEARER_TOKEN_LENGTH = 4096;

const BEARER = new RegExp(`^bearer +(\\S{1,${MAX_BEARER_TOKEN_LENGTH}}) *$`, 'i');

/**
 * The credential of an `Authorization: Bearer <token>` header, or undefined. The scheme name is
 * case-insensitive (RFC 9110 §11.1), so `bearer` and `BEARER` are the same scheme.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  return BEARER.exec(authorization ?? '')?.[1];
}
