import { describe, expect, it } from 'vitest';
import {
  backoffCeiling,
  backoffDelay,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  reconnectDelay,
} from './backoff.js';

describe('reconnect backoff', () => {
  it('doubles the ceiling per attempt up to the 30 s cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((a) => backoffCeiling(a))).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it('draws a full-jitter delay between 0 and the ceiling', () => {
    expect(backoffDelay(3, () => 0)).toBe(0);
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
    expect(backoffDelay(3, () => 0.999999)).toBe(3999);
    expect(backoffDelay(20, () => 0.999999)).toBeLessThan(30_000);
  });

  it('honours a server Retry-After but bounds it', () => {
    expect(reconnectDelay(0, 5000, () => 0.5)).toBe(5000);
    expect(reconnectDelay(6, 1000, () => 0.5)).toBe(15000); // backoff larger than the hint
    expect(reconnectDelay(0, 24 * 3_600_000, () => 0)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
