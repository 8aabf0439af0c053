import { describe, expect, it } from 'vitest';
import { LogThrottle } from './log-throttle.js';

describe('LogThrottle', () => {
  it('lets one line per key and interval through and counts the rest', () => {
    const throttle = new LogThrottle(1000);
    expect(throttle.take('c1', 0)).toEqual({ suppressed: 0 });
    expect(throttle.take('c1', 10)).toBeUndefined();
    expect(throttle.take('c1', 999)).toBeUndefined();
    expect(throttle.take('c2', 999)).toEqual({ suppressed: 0 });
    expect(throttle.take('c1', 1000)).toEqual({ suppressed: 2 });
  });

  it('keeps at most maxKeys keys, dropping expired ones first', () => {
    const throttle = new LogThrottle(1000, 2);
    throttle.take('a', 0);
    throttle.take('b', 500);
    expect(throttle.take('c', 1200)).toEqual({ suppressed: 0 }); // 'a' expired and is dropped
    expect(throttle.take('b', 1300)).toBeUndefined(); // 'b' is still within its interval
    throttle.forget('b');
    expect(throttle.take('b', 1301)).toEqual({ suppressed: 0 });
  });
});
