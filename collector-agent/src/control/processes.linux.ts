import { readdirSync, statSync } from 'node:fs';
import { OpenStatFiles } from '../proc/open-stat-files.js';
import { parseCmdline } from '../proc/pid-cmdline.js';
import { isKernelThread, parseStat, type ProcStat } from '../proc/pid-stat.js';
import { parseStatusTgid } from '../proc/pid-status.js';
import { ProcFileReader } from '../proc/proc-file-reader.js';
import { parseBootTime } from '../proc/stat.js';
import { parsePasswd } from './passwd.js';
import type { ProcessSample, ProcessSummary, ProcessTable } from './processes.js';

export interface LinuxProcessTableOptions {
  procRoot?: string;
  passwdPath?: string;
  /** USER_HZ; the kernel exposes 100 to user space on every mainstream architecture. */
  clockTicksPerSecond?: number;
  /** Stat files held open between scans (see OpenStatFiles); default 512. */
  maxOpenStatFiles?: number;
  pageSize?: number;
  now?: () => number;
}

interface CpuMark {
  startTicks: number;
  cpuTicks: number;
  atMs: number;
  /** The start time as text, made once per process rather than once per scan. */
  startedAt: string;
}

interface ReadStat {
  stat: ProcStat;
  /** CPU percent since the previous scan, 0 for a process that scan did not see. */
  percent: number;
  startedAt: string;
}

/**
 * The process table read straight from /proc, synchronously (see ProcFileReader for why). The
 * I/O and the parsers of the files live in ../proc/, shared with the host metrics.
 */
export class LinuxProcessTable implements ProcessTable {
  private readonly procRoot: string;
  private readonly passwdPath: string;
  private readonly ticksPerSecond: number;
  private readonly pageSize: number;
  private readonly now: () => number;
  private readonly files = new ProcFileReader();
  private users: Map<number, string> | undefined;
  private usersRefreshedAtMs = 0;
  private bootTimeMs: number | undefined;
  private cpuMarks = new Map<number, CpuMark>();
  private readonly statFiles: OpenStatFiles;

  constructor(options: LinuxProcessTableOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.passwdPath = options.passwdPath ?? '/etc/passwd';
    this.ticksPerSecond = options.clockTicksPerSecond ?? 100;
    this.pageSize = options.pageSize ?? 4096;
    this.now = options.now ?? Date.now;
    this.statFiles = new OpenStatFiles(this.procRoot, options.maxOpenStatFiles ?? 512);
  }

  /** Closes the stat files held between scans; the table still works, reopening them. */
  close(): void {
    this.statFiles.closeAll();
  }

  async list(): Promise<ProcessSample[]> {
    return this.scan((pid, atMs, marks) => this.read(pid, atMs, marks));
  }

  /** Reads /proc/<pid>/stat only: a third of the system calls of `list()`. */
  async listSummaries(): Promise<ProcessSummary[]> {
    return this.scan((pid, atMs, marks) => {
      const stat = this.readStat(pid, atMs, marks);
      return stat && this.toSummary(stat);
    });
  }

  private scan<T>(
    readOne: (pid: number, atMs: number, marks: Map<number, CpuMark>) => T | undefined,
  ): T[] {
    const atMs = this.now();
    const marks = new Map<number, CpuMark>();
    const listed = new Set<number>();
    const rows: T[] = [];
    for (const entry of readdirSync(this.procRoot)) {
      const first = entry.charCodeAt(0);
      if (first < 48 || first > 57) continue; // only numeric entries are processes
      const pid = Number(entry);
      listed.add(pid);
      const row = readOne(pid, atMs, marks);
      if (row) rows.push(row);
    }
    this.statFiles.keepOnly(listed);
    this.cpuMarks = marks;
    return rows;
  }

  /**
   * /proc/<id> also answers for thread ids, which readdir hides. A thread id is not a process:
   * kill() on it would signal the whole thread group (maybe the agent's own), so it is refused
   * here as "no such process".
   */
  async get(pid: number): Promise<ProcessSample | undefined> {
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const status = this.files.readProcessFile(`${this.procRoot}/${pid}/status`);
    if (status === undefined || parseStatusTgid(status) !== pid) return undefined;
    return this.read(pid, this.now(), this.cpuMarks);
  }

  async userOf(pid: number): Promise<string | undefined> {
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const owner = statSync(`${this.procRoot}/${pid}`, { throwIfNoEntry: false });
    return owner && this.userName(owner.uid);
  }

  private read(pid: number, atMs: number, marks: Map<number, CpuMark>): ProcessSample | undefined {
    const dir = `${this.procRoot}/${pid}`;
    const stat = this.readStat(pid, atMs, marks);
    if (stat === undefined) return undefined;
    const cmdline = this.files.readProcessFile(`${dir}/cmdline`);
    if (cmdline === undefined) return undefined;
    const owner = statSync(dir, { throwIfNoEntry: false });
    if (owner === undefined) return undefined;
    const command = parseCmdline(cmdline);
    return {
      ...this.toSummary(stat),
      user: this.userName(owner.uid),
      command: command === '' ? `[${stat.stat.comm}]` : command,
      uid: owner.uid,
    };
  }

  /** The stat line, with the CPU percent since the previous scan; records this scan's mark. */
  private readStat(pid: number, atMs: number, marks: Map<number, CpuMark>): ReadStat | undefined {
    const statText = this.statFiles.read(pid, this.files.buffer);
    if (statText === undefined) return undefined;
    const stat = parseStat(statText);
    const previous = this.cpuMarks.get(pid);
    const same = previous !== undefined && previous.startTicks === stat.startTicks;
    const startedAt = same ? previous.startedAt : this.startTimeText(stat.startTicks);
    marks.set(pid, { startTicks: stat.startTicks, cpuTicks: stat.cpuTicks, atMs, startedAt });
    const percent = same
      ? cpuPercent(stat.cpuTicks - previous.cpuTicks, this.ticksPerSecond, atMs - previous.atMs)
      : 0;
    return { stat, percent, startedAt };
  }

  private startTimeText(startTicks: number): string {
    const startedMs = this.bootTime() + (startTicks / this.ticksPerSecond) * 1000;
    return new Date(Math.round(startedMs)).toISOString();
  }

  private toSummary({ stat, percent, startedAt }: ReadStat): ProcessSummary {
    return {
      pid: stat.pid,
      ppid: stat.ppid,
      name: stat.comm,
      state: stat.state,
      cpuPercent: percent,
      memoryBytes: stat.rssPages * this.pageSize,
      startedAt,
      cpuSeconds: stat.cpuTicks / this.ticksPerSecond,
      kernelThread: isKernelThread(stat),
    };
  }

  private bootTime(): number {
    this.bootTimeMs ??=
      parseBootTime(this.files.readProcessFile(`${this.procRoot}/stat`) ?? '') * 1000;
    return this.bootTimeMs;
  }

  /** /etc/passwd is parsed once; an unknown uid re-reads it, at most once a minute. */
  private userName(uid: number): string {
    let name = this.users?.get(uid);
    if (
      this.users === undefined ||
      (name === undefined && this.now() - this.usersRefreshedAtMs > 60_000)
    ) {
      this.usersRefreshedAtMs = this.now();
      const text = this.files.readProcessFile(this.passwdPath);
      this.users = text === undefined ? new Map() : parsePasswd(text);
      name = this.users.get(uid);
    }
    return name ?? String(uid);
  }
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
