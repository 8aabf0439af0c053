import { describe, expect, it } from 'vitest';
import { parseUptime } from './uptime.js';

describe('parseUptime', () => {
  it('reads seconds since boot', () => {
    expect(parseUptime('573.40 799.35\n')).toBe(573.4);
  });

  it('rejects garbage', () => {
    expect(() => parseUptime('soon\n')).toThrow(/uptime/);
  });
});
