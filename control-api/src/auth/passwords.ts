import { hash, verify } from '@node-rs/argon2';

/** OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1. */
export const ARGON2_OPTIONS = {
  algorithm: 2, // Argon2id (a const enum in the typings, spelled out so transpilers keep it)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, verified against when the username does not exist so that a
 * failed login takes as long for unknown users as for known ones.
 */
export const dummyPasswordHash = (() => {
  let cached: Promise<string> | undefined;
  return () => (cached ??= hashPassword(`dummy-${Math.random()}`));
})();
