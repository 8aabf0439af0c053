import { describe, expect, it } from 'vitest';
import { parseMemInfo } from './meminfo.js';

const MEMINFO = `MemTotal:       24684084 kB
MemFree:        20803600 kB
MemAvailable:   24156840 kB
Buffers:          129072 kB
Cached:          3024100 kB
SwapCached:            0 kB
Active(anon):     713416 kB
SReclaimable:     100000 kB
HugePages_Total:       0
`;

describe('parseMemInfo', () => {
  it('converts the kB figures to bytes and counts reclaimable slab as cache', () => {
    expect(parseMemInfo(MEMINFO)).toEqual({
      total: 24684084 * 1024,
      free: 20803600 * 1024,
      available: 24156840 * 1024,
      buffers: 129072 * 1024,
      cached: (3024100 + 100000) * 1024,
    });
  });

  it('falls back to free memory on kernels without MemAvailable', () => {
    const old = MEMINFO.replace(/^MemAvailable:.*\n/m, '');
    expect(parseMemInfo(old).available).toBe(20803600 * 1024);
  });

  it('names the missing field', () => {
    expect(() => parseMemInfo('MemFree: 1 kB\n')).toThrow(/MemTotal missing/);
  });
});
