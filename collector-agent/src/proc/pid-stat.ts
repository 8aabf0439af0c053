import { ProcParseError } from './parse-error.js';

/** Bit in /proc/<pid>/stat `flags` that marks a kernel thread (PF_KTHREAD in linux/sched.h). */
export const PF_KTHREAD = 0x00200000;

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  flags: number;
  /** utime + stime in clock ticks. */
  cpuTicks: number;
  /** Start time after boot in clock ticks. */
  startTicks: number;
  rssPages: number;
}

const FILE = '/proc/<pid>/stat';

/**
 * Parses /proc/<pid>/stat. The command name sits in parentheses and may itself contain spaces
 * and ')', so it runs from the first '(' to the LAST ')'; fields after it are space-separated.
 */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open)
    throw new ProcParseError(FILE, `no (comm) in stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  // Field 3 (state) is rest[0], so field n is rest[n - 3] (numbering as in proc(5)). Only the
  // fields up to 24 (rss) are split off: the rest of the line (~28 more) is not needed.
  const rest = text.slice(close + 2).split(' ', 22);
  if (!Number.isInteger(pid) || rest.length < 22) {
    throw new ProcParseError(FILE, `short or malformed stat line: ${text.slice(0, 80)}`);
  }
  const field = (n: number): number => Number(rest[n - 3]);
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] as string,
    ppid: field(4),
    flags: field(9),
    cpuTicks: field(14) + field(15),
    startTicks: field(22),
    rssPages: Math.max(0, field(24)),
  };
}

/** Kernel threads have PF_KTHREAD set; kthreadd (pid 2) and its children are kernel threads too. */
export function isKernelThread(stat: Pick<ProcStat, 'pid' | 'ppid' | 'flags'>): boolean {
  return (stat.flags & PF_KTHREAD) !== 0 || stat.pid === 2 || stat.ppid === 2;
}
