import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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

/** `[[dd-]hh:]mm:ss[.cc]` → seconds. */
export function parseCpuTime(text: string): number {
  const [days, rest] = text.includes('-') ? text.split('-') : ['0', text];
  const parts = (rest ?? '0').split(':').map(Number).reverse();
  const [s = 0, m = 0, h = 0] = parts;
  return Number(days) * 86400 + h * 3600 + m * 60 + s;
}

/** CSV line splitter for `tasklist /fo csv /nh` (every field quoted). */
export function parseTasklistCsv(stdout: string): ProcessSample[] {
  const samples: ProcessSample[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const fields = [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) =>
      (m[1] ?? '').replaceAll('""', '"'),
    );
    // "Image Name","PID","Session Name","Session#","Mem Usage","Status","User Name","CPU Time","Window Title"
    const [image = '', pid = '', , , mem = '0', status = '', user = '', cpu = '0:00:00'] = fields;
    samples.push({
      pid: Number(pid),
      ppid: 0,
      name: image,
      user: user === 'N/A' ? '' : user,
      state: status === 'Not Responding' ? 'D' : status === 'Suspended' ? 'T' : 'R',
      cpuPercent: 0,
      memoryBytes: Number(mem.replace(/[^\d]/g, '')) * 1024,
      command: image,
      startedAt: null,
      cpuSeconds: parseCpuTime(cpu),
      kernelThread: false,
      uid: -1,
    });
  }
  return samples;
}

/**
 * Fallback process table for macOS and Windows, which have no /proc: it runs the platform's
 * own listing tool. CPU percent on macOS is ps's decaying average; Windows reports 0.
 */
export class NativeProcessTable implements ProcessTable {
  constructor(private readonly platform: NodeJS.Platform = process.platform) {}

  async list(): Promise<ProcessSample[]> {
    if (this.platform === 'win32') {
      const { stdout } = await run('tasklist', ['/v', '/fo', 'csv', '/nh'], {
        maxBuffer: MAX_OUTPUT,
        windowsHide: true,
      });
      return parseTasklistCsv(stdout);
    }
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
