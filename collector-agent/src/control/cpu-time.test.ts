import { describe, expect, it } from 'vitest';
import { parseCpuTime } from './cpu-time.js';

describe('parseCpuTime', () => {
  it('converts ps/tasklist CPU times to seconds', () => {
    expect(parseCpuTime('1:02.50')).toBe(62.5);
    expect(parseCpuTime('2-01:00:00')).toBe(2 * 86400 + 3600);
    expect(parseCpuTime('5:40:12')).toBe(5 * 3600 + 40 * 60 + 12);
  });
});
