import { createHash, randomBytes } from 'node:crypto';

export const AGENT_TOKEN_PREFIX = 'cca_';
export const REFRESH_TOKEN_PREFIX = 'ccr_';
export const SERVICE_TOKEN_PREFIX = 'ccs_';

/** An opaque bearer secret: a prefix naming its kind plus 256 random bits. */
export function newOpaqueToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/**
 * Opaque tokens carry 256 bits of entropy, so a plain SHA-256 is enough to store them: unlike
 * passwords they cannot be guessed, and lookups by hash must be cheap.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}
