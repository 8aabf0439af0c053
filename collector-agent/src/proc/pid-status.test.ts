import { describe, expect, it } from 'vitest';
import { ProcParseError } from './parse-error.js';
import { parseStatusTgid } from './pid-status.js';

describe('parseStatusTgid', () => {
  it('takes the thread group id from status', () => {
    const status =
      'Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4250\nPPid:\t4100\n';
    expect(parseStatusTgid(status)).toBe(4242);
    expect(() => parseStatusTgid('Name:\tx\n')).toThrow(ProcParseError);
  });
});
