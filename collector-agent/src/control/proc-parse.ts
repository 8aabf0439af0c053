/**
 * Parsers for the Linux /proc text formats. Pure functions on strings so they are tested on
 * literal fixtures; all I/O lives in `processes.linux.ts`.
 */

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

export class ProcParseError extends Error {
  readonly code = 'proc_parse_failed';
}

/**
 * Parses /proc/<pid>/stat. The command name sits in parentheses and may itself contain spaces
 * and ')', so it runs from the first '(' to the LAST ')'; fields after it are space-separated.
 */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open)
    throw new ProcParseError(`no (comm) in stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  // Field 3 (state) is rest[0], so field n is rest[n - 3] (numbering as in proc(5)). Only the
  // fields up to 24 (rss) are split off: the rest of the line (~28 more) is not needed.
  const rest = text.slice(close + 2).split(' ', 22);
  if (!Number.isInteger(pid) || rest.length < 22) {
    throw new ProcParseError(`short or malformed stat line: ${text.slice(0, 80)}`);
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

/** Boot time (`btime`, Unix seconds) from /proc/stat. */
export function parseBootTime(procStat: string): number {
  const match = /^btime\s+(\d+)\s*$/m.exec(procStat);
  if (!match) throw new ProcParseError('no btime line in /proc/stat');
  return Number(match[1]);
}

/** Thread group id (the process id) from the `Tgid:` line of /proc/<id>/status. */
export function parseStatusTgid(status: string): number {
  const match = /^Tgid:\s+(\d+)/m.exec(status);
  if (!match) throw new ProcParseError('no Tgid line in status');
  return Number(match[1]);
}

/** /proc/<pid>/cmdline holds NUL-separated arguments, usually with a trailing NUL. */
export function parseCmdline(raw: string): string {
  let end = raw.length;
  while (end > 0 && raw.charCodeAt(end - 1) === 0) end--;
  return raw.slice(0, end).replaceAll('\0', ' ');
}

/** uid → user name from /etc/passwd; the first entry for a uid wins, as getpwuid does. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, , uid] = line.split(':');
    const id = Number(uid);
    if (name && uid !== undefined && uid !== '' && Number.isInteger(id) && !users.has(id)) {
      users.set(id, name);
    }
  }
  return users;
}

/** CPU use over an interval as percent of one core (top's convention; may exceed 100). */
export function cpuPercent(
  deltaTicks: number,
  clockTicksPerSecond: number,
  elapsedMs: number,
): number {
  if (elapsedMs <= 0 || deltaTicks <= 0) return 0;
  return (deltaTicks / clockTicksPerSecond / (elapsedMs / 1000)) * 100;
}
