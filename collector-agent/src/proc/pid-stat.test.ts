import { describe, expect, it } from 'vitest';
import { ProcParseError } from './parse-error.js';
import { isKernelThread, parseStat } from './pid-stat.js';

// Real lines captured from a Debian 12 host, shortened only where noted.
const SLEEP_STAT =
  '4242 (sleep) S 4100 4242 4100 34816 4242 4194304 99 0 0 0 3 5 0 0 20 0 1 0 123456 8531968 221 18446744073709551615 94371 94372 1407 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n';
const KWORKER_STAT =
  '57 (kworker/1:1-events) I 2 0 0 0 -1 69238880 0 0 0 0 0 12 0 0 20 0 1 0 160 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n';

describe('parseStat', () => {
  it('reads the fields the process table needs', () => {
    expect(parseStat(SLEEP_STAT)).toEqual({
      pid: 4242,
      comm: 'sleep',
      state: 'S',
      ppid: 4100,
      flags: 4194304,
      cpuTicks: 8,
      startTicks: 123456,
      rssPages: 221,
    });
  });

  it('keeps spaces and parentheses that are part of the command name', () => {
    const stat = parseStat(SLEEP_STAT.replace('(sleep)', '(my ) (odd) name)'));
    expect(stat.comm).toBe('my ) (odd) name');
    expect(stat.state).toBe('S');
    expect(stat.ppid).toBe(4100);
    expect(stat.rssPages).toBe(221);
  });

  it('handles an empty command name', () => {
    expect(parseStat(SLEEP_STAT.replace('(sleep)', '()')).comm).toBe('');
  });

  it('rejects a truncated line instead of guessing', () => {
    expect(() => parseStat('4242 (sleep) S 4100 4242')).toThrow(ProcParseError);
    expect(() => parseStat('garbage')).toThrow(ProcParseError);
  });

  it('recognises kernel threads by PF_KTHREAD or by kthreadd as parent', () => {
    expect(isKernelThread(parseStat(KWORKER_STAT))).toBe(true);
    expect(isKernelThread({ pid: 99, ppid: 2, flags: 0 })).toBe(true);
    expect(isKernelThread({ pid: 2, ppid: 0, flags: 0 })).toBe(true);
    expect(isKernelThread(parseStat(SLEEP_STAT))).toBe(false);
  });
});
