import { describe, expect, it } from 'vitest';
import { SightingThrottle } from './sighting-throttle.js';

describe('SightingThrottle', () => {
  it('writes the whole row at the first sighting of an agent', () => {
    expect(new SightingThrottle(1000).decide('a', 'ws c1', 0, false)).toBe('upsert');
  });

  it('skips repeats within the refresh interval and then only moves lastSeenAt', () => {
    const throttle = new SightingThrottle(1000);
    throttle.wrote('a', 'ws c1', 5_000);
    expect(throttle.decide('a', 'ws c1', 5_999, false)).toBe('none');
    expect(throttle.decide('a', 'ws c1', 6_000, false)).toBe('touch');
    throttle.wrote('a', 'ws c1', 6_000);
    expect(throttle.decide('a', 'ws c1', 6_999, false)).toBe('none');
    expect(throttle.decide('a', 'ws c1', 7_000, false)).toBe('touch');
  });

  it('writes the whole row for news, and for a sighting that differs (another connection, capabilities)', () => {
    const throttle = new SightingThrottle(1000);
    throttle.wrote('a', 'ws c1', 5_000);
    expect(throttle.decide('a', 'ws c1', 5_001, true)).toBe('upsert');
    expect(throttle.decide('a', 'ws c2', 5_001, false)).toBe('upsert');
    expect(throttle.decide('b', 'ws c1', 5_001, false)).toBe('upsert');
    throttle.wrote('a', 'ws c2', 5_002);
    expect(throttle.decide('a', 'ws c1', 9_000, false)).toBe('upsert');
  });

  it('writes the whole row again for an agent it was told to forget', () => {
    const throttle = new SightingThrottle(1000);
    throttle.wrote('a', 'ws c1', 5_000);
    throttle.forget('a');
    expect(throttle.decide('a', 'ws c1', 5_001, false)).toBe('upsert');
  });
});
