import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseCpuTime } from './cpu-time.js';
import type { ProcessSample, ProcessTable } from './processes.js';

const run = promisify(execFile);
const MAX_OUTPUT = 64 * 1024 * 1024;

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
 * The process table on Windows, which has no /proc: it runs `tasklist`. Windows' tasklist
 * tells no CPU percent (reported as 0), parent pid or start time.
 */
export class Win32ProcessTable implements ProcessTable {
  async list(): Promise<ProcessSample[]> {
    const { stdout } = await run('tasklist', ['/v', '/fo', 'csv', '/nh'], {
      maxBuffer: MAX_OUTPUT,
      windowsHide: true,
    });
    return parseTasklistCsv(stdout);
  }

  async get(pid: number): Promise<ProcessSample | undefined> {
    return (await this.list()).find((p) => p.pid === pid);
  }
}
