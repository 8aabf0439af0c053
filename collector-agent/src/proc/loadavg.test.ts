import { describe, expect, it } from 'vitest';
import { parseLoadAverage } from './loadavg.js';

describe('parseLoadAverage', () => {
  it('reads the three averages', () => {
    expect(parseLoadAverage('1.89 1.33 0.57 1/97 17814\n')).toEqual({
      one: 1.89,
      five: 1.33,
      fifteen: 0.57,
    });
  });

  it('rejects an empty file', () => {
    expect(() => parseLoadAverage('')).toThrow(/1m load/);
  });
});
