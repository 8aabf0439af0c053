/** /proc/stat: per-CPU times for the CPU metrics, boot time for the process start times. */
import { numberField, ProcParseError } from './parse-error.js';

/** Seconds one logical CPU spent in each mode since boot. */
export interface CpuTimes {
  cpu: number;
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  /** Hard plus soft interrupts. */
  interrupt: number;
  steal: number;
}

const FILE = '/proc/stat';

/**
 * The per-CPU lines (`cpu0`, `cpu1`, …) of /proc/stat; the aggregate `cpu` line is left out so
 * that every series is one logical CPU. Guest time is already counted in user time, so it is
 * not added again.
 */
export function parseCpuTimes(text: string, ticksPerSecond: number): CpuTimes[] {
  const result: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const fields = (match[2] ?? '').trim().split(/\s+/);
    if (fields.length < 8) {
      throw new ProcParseError(FILE, `cpu${match[1]} has ${fields.length} fields, expected ≥ 8`);
    }
    const ticks = (i: number, what: string) => numberField(FILE, fields[i], what) / ticksPerSecond;
    result.push({
      cpu: Number(match[1]),
      user: ticks(0, 'user'),
      nice: ticks(1, 'nice'),
      system: ticks(2, 'system'),
      idle: ticks(3, 'idle'),
      iowait: ticks(4, 'iowait'),
      interrupt: ticks(5, 'irq') + ticks(6, 'softirq'),
      steal: ticks(7, 'steal'),
    });
  }
  if (result.length === 0) throw new ProcParseError(FILE, 'no cpuN lines');
  return result;
}

/** Boot time (`btime`, Unix seconds) from /proc/stat. */
export function parseBootTime(text: string): number {
  const match = /^btime\s+(\d+)\s*$/m.exec(text);
  if (!match) throw new ProcParseError(FILE, 'no btime line');
  return Number(match[1]);
}
