import { describe, expect, it } from 'vitest';
import { parseCmdline } from './pid-cmdline.js';

describe('parseCmdline', () => {
  it('joins NUL-separated arguments and drops the trailing NULs', () => {
    expect(parseCmdline('sleep\u0000300\u0000')).toBe('sleep 300');
    expect(parseCmdline('/usr/bin/python3\u0000-c\u0000print("a b")\u0000\u0000')).toBe(
      '/usr/bin/python3 -c print("a b")',
    );
    expect(parseCmdline('')).toBe('');
  });
});
