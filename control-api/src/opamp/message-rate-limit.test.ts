import { describe, expect, it } from 'vitest';
import { MessageRateLimit } from './message-rate-limit.js';

describe('MessageRateLimit', () => {
  it('allows the limit, warns once with the time left, drops the grace, then closes', () => {
    const limit = new MessageRateLimit(3, 2);
    const verdicts = [0, 10, 20, 15_020, 15_030, 15_040, 15_050].map((t) => limit.take(t));
    expect(verdicts).toEqual([
      { kind: 'allowed' },
      { kind: 'allowed' },
      { kind: 'allowed' },
      { kind: 'warn', retryAfterMs: 45_000 - 20 },
      { kind: 'drop' },
      { kind: 'drop' },
      { kind: 'close' },
    ]);
  });

  it('starts counting again in the next minute', () => {
    const limit = new MessageRateLimit(2, 1);
    expect([0, 1, 2].map((t) => limit.take(t).kind)).toEqual(['allowed', 'allowed', 'warn']);
    expect([60_000, 60_001, 60_002].map((t) => limit.take(t).kind)).toEqual([
      'allowed',
      'allowed',
      'warn',
    ]);
  });

  it('gives a tenth of the limit as grace by default, at least ten messages', () => {
    const big = new MessageRateLimit(1000);
    const kinds = Array.from({ length: 1102 }, () => big.take(0).kind);
    expect(kinds.lastIndexOf('allowed')).toBe(999);
    expect(kinds[1000]).toBe('warn');
    expect(kinds.slice(1001, 1101).every((k) => k === 'drop')).toBe(true);
    expect(kinds[1101]).toBe('close');

    const small = new MessageRateLimit(5);
    const smallKinds = Array.from({ length: 17 }, () => small.take(0).kind);
    expect(smallKinds.filter((k) => k === 'drop')).toHaveLength(10);
    expect(smallKinds[16]).toBe('close');
  });
});
