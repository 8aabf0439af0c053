import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseCpuTime } from './cpu-time.js';
import type { ProcessSample, ProcessTable } from './processes.js';

const run = promisify(execFile);
const MAX_OUTPUT = 64 * 1024 * 1024;

/** Single-token columns first and the command line last, because arguments contain spaces. */
const MAC_COLUMNS = 'pid=,ppid=,uid=,user=,state=,pcpu=,rss=,cputime=,lstart=,args=';

export function parseMacPs(stdout: string): ProcessSample[] {
  const samples: ProcessSample[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    // pid ppid uid user state pcpu rss cputime  Dow Mon DD HH:MM:SS YYYY  args...
    const match =
      /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+(\d+)\s+(\S+)\s+(\w{3} \w{3}\s+\d+ [\d:]+ \d{4})\s+(.*)$/.exec(
        line,
      );
    if (!match) throw new Error(`unexpected ps line: ${line}`);
    const [, pid, ppid, uid, user, state, pcpu, rss, cputime, lstart, args] =
      match as unknown as string[];
    const command = args ?? '';
    const executable = command.split(' ')[0] ?? '';
    const started = new Date(lstart ?? '');
    samples.push({
      pid: Number(pid),
      ppid: Number(ppid),
      name: executable.slice(executable.lastIndexOf('/') + 1),
      user: user ?? '',
      state: (state ?? '?').charAt(0),
      cpuPercent: Number(pcpu),
      memoryBytes: Number(rss) * 1024,
      command,
      startedAt: Number.isNaN(started.getTime()) ? null : started.toISOString(),
      cpuSeconds: parseCpuTime(cputime ?? '0'),
      kernelThread: false,
      uid: Number(uid),
    });
  }
  return samples;
}

/**
 * The process table on macOS (and the BSDs, whose ps takes the same options), which have no
 * /proc: it runs `ps`. CPU percent is ps's decaying average.
 */
export class DarwinProcessTable implements ProcessTable {
  async list(): Promise<ProcessSample[]> {
    const { stdout } = await run('ps', ['-axo', MAC_COLUMNS], {
      maxBuffer: MAX_OUTPUT,
      env: { ...process.env, LC_ALL: 'C' },
    });
    return parseMacPs(stdout);
  }

  async get(pid: number): Promise<ProcessSample | undefined> {
    return (await this.list()).find((p) => p.pid === pid);
  }
}
