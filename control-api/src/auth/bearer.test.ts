import { describe, expect, it } from 'vitest';
import { MAX_BEARER_TOKEN_LENGTH, bearerToken } from './bearer.js';

describe('bearerToken', () => {
  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('accepts the scheme spelled %s', (scheme) => {
    expect(bearerToken(`${scheme} abc.def`)).toBe('abc.def');
  });

  it('refuses other schemes, a missing or oversized token and inner spaces', () => {
    for (const header of [
      undefined,
      '',
      'Basic YWRtaW46YWRtaW4=',
      'Bearer',
      'Bearer ',
      'Bearertoken',
      'Bearer a b',
      `Bearer ${'x'.repeat(MAX_BEARER_TOKEN_LENGTH + 1)}`,
    ]) {
      expect(bearerToken(header), String(header)).toBeUndefined();
    }
    expect(bearerToken(`Bearer ${'x'.repeat(MAX_BEARER_TOKEN_LENGTH)}`)).toHaveLength(
      MAX_BEARER_TOKEN_LENGTH,
    );
  });
});
