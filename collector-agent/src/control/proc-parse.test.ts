import { describe, expect, it } from 'vitest';
import {
  cpuPercent,
  isKernelThread,
  parseBootTime,
  parseCmdline,
  parsePasswd,
  parseStat,
  parseStatusTgid,
  ProcParseError,
} from './proc-parse.js';

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

describe('other /proc formats', () => {
  it('finds btime in /proc/stat', () => {
    const procStat =
      'cpu  2255 34 2290 22625563 6290 127 456 0 0 0\nintr 114930548 113199788 3\nctxt 1990473561\nbtime 1732500000\nprocesses 2915969\n';
    expect(parseBootTime(procStat)).toBe(1732500000);
    expect(() => parseBootTime('cpu 1 2 3\n')).toThrow(ProcParseError);
  });

  it('takes the thread group id from status', () => {
    const status =
      'Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4250\nPPid:\t4100\n';
    expect(parseStatusTgid(status)).toBe(4242);
    expect(() => parseStatusTgid('Name:\tx\n')).toThrow(ProcParseError);
  });

  it('joins NUL-separated arguments and drops the trailing NULs', () => {
    expect(parseCmdline('sleep\u0000300\u0000')).toBe('sleep 300');
    expect(parseCmdline('/usr/bin/python3\u0000-c\u0000print("a b")\u0000\u0000')).toBe(
      '/usr/bin/python3 -c print("a b")',
    );
    expect(parseCmdline('')).toBe('');
  });

  it('maps uids to names, first entry wins, comments and junk skipped', () => {
    const passwd =
      'root:x:0:0:root:/root:/bin/bash\n# comment\nbroken-line\nalice:x:1000:1000::/home/alice:/bin/sh\ntoor:x:0:0::/:/bin/sh\n';
    const users = parsePasswd(passwd);
    expect(users.get(0)).toBe('root');
    expect(users.get(1000)).toBe('alice');
    expect(users.size).toBe(2);
  });

  it('computes CPU percent of one core from tick deltas', () => {
    expect(cpuPercent(50, 100, 1000)).toBe(50);
    expect(cpuPercent(300, 100, 1500)).toBe(200);
    expect(cpuPercent(0, 100, 1000)).toBe(0);
    expect(cpuPercent(10, 100, 0)).toBe(0);
  });
});
