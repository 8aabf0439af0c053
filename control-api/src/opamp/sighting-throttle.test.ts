import { describe, expect, it } from 'vitest';
import { SightingThrottle } from './sighting-throttle.js';

describe('SightingThrottle', () => {
  it('writes the first sighting of an agent', () => {
    expect(new SightingThrottle(1000).mustWrite('a', 'ws c1', 0, false)).toBe(true);
  });

  it('skips repeats within the refresh interval and writes again after it', () => {
    const throttle = new SightingThrottle(1000);
    throttle.wrote('a', 'ws c1', 5_000);
    expect(throttle.mustWrite('a', 'ws c1', 5_999, false)).toBe(false);
    expect(throttle.mustWrite('a', 'ws c1', 6_000, false)).toBe(true);
  });

  it('always writes news, and a sighting that differs (another connection, capabilities)', () => {
    const throttle = new SightingThrottle(1000);
    throttle.wrote('a', 'ws c1', 5_000);
    expect(throttle.mustWrite('a', 'ws c1', 5_001, true)).toBe(true);
    expect(throttle.mustWrite('a', 'ws c2', 5_001, false)).toBe(true);
    expect(throttle.mustWrite('b', 'ws c1', 5_001, false)).toBe(true);
  });

  it('writes again for an agent it was told to forget', () => {
    const throttle = new SightingThrottle(1000);
    throttle.wrote('a', 'ws c1', 5_000);
    throttle.forget('a');
    expect(throttle.mustWrite('a', 'ws c1', 5_001, false)).toBe(true);
  });
});
