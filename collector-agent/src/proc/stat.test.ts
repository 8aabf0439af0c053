import { describe, expect, it } from 'vitest';
import { ProcParseError } from './parse-error.js';
import { parseBootTime, parseCpuTimes } from './stat.js';

const STAT = `cpu  25274 0 8104 79934 519 0 185 92 0 0
cpu0 11763 10 3904 41226 54 3 52 44 7 0
cpu1 13511 0 4199 38708 465 0 132 48 0 0
intr 1121422 0 0 0
ctxt 4242
btime 1764094000
`;

describe('parseCpuTimes', () => {
  it('returns one entry per logical CPU in seconds, without the aggregate line', () => {
    const cpus = parseCpuTimes(STAT, 100);
    expect(cpus).toEqual([
      {
        cpu: 0,
        user: 117.63,
        nice: 0.1,
        system: 39.04,
        idle: 412.26,
        iowait: 0.54,
        interrupt: 0.55,
        steal: 0.44,
      },
      {
        cpu: 1,
        user: 135.11,
        nice: 0,
        system: 41.99,
        idle: 387.08,
        iowait: 4.65,
        interrupt: 1.32,
        steal: 0.48,
      },
    ]);
  });

  it('rejects a file without per-CPU lines', () => {
    expect(() => parseCpuTimes('cpu  1 2 3 4 5 6 7 8\n', 100)).toThrow(/no cpuN lines/);
  });

  it('rejects a truncated CPU line', () => {
    expect(() => parseCpuTimes('cpu0 1 2 3\n', 100)).toThrow(/expected ≥ 8/);
  });

  it('rejects a non-numeric field', () => {
    expect(() => parseCpuTimes('cpu0 1 2 x 4 5 6 7 8\n', 100)).toThrow(/system/);
  });
});

describe('parseBootTime', () => {
  it('finds btime in /proc/stat', () => {
    const procStat =
      'cpu  2255 34 2290 22625563 6290 127 456 0 0 0\nintr 114930548 113199788 3\nctxt 1990473561\nbtime 1732500000\nprocesses 2915969\n';
    expect(parseBootTime(procStat)).toBe(1732500000);
    expect(() => parseBootTime('cpu 1 2 3\n')).toThrow(ProcParseError);
  });
});
