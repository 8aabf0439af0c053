import type { ProcessSummary } from '../control/processes.js';

interface CpuMark {
  cpuSeconds: number;
  atMillis: number;
}

export interface ProcessCpuRatesOptions {
  /** Logical CPUs: utilization is a share of the whole host, as semconv defines it. */
  cpuCount: number;
  /** Upper bound on the processes remembered between cycles, whatever the pid churn. */
  maxRememberedPids: number;
  now?: () => number;
}

/**
 * `process.cpu.utilization` for every sample: CPU seconds since this tracker's previous cycle
 * divided by elapsed time and CPU count. A process seen for the first time gets its lifetime
 * average, so a busy newcomer ranks at once. Marks are replaced wholesale each cycle, so pids
 * that exited are forgotten immediately.
 */
export class ProcessCpuRates {
  private marks = new Map<string, CpuMark>();
  private readonly now: () => number;

  constructor(private readonly options: ProcessCpuRatesOptions) {
    this.now = options.now ?? Date.now;
  }

  /** How many processes are remembered for the next cycle. */
  get rememberedCount(): number {
    return this.marks.size;
  }

  update(samples: readonly ProcessSummary[]): Map<number, number> {
    const atMillis = this.now();
    const rates = new Map<number, number>();
    for (const sample of samples) {
      rates.set(sample.pid, this.rateOf(sample, atMillis));
    }
    this.remember(samples, atMillis);
    return rates;
  }

  private rateOf(sample: ProcessSummary, atMillis: number): number {
    const mark = this.marks.get(keyOf(sample));
    let cpuSeconds = sample.cpuSeconds;
    let elapsedMillis: number;
    if (mark && sample.cpuSeconds >= mark.cpuSeconds) {
      cpuSeconds -= mark.cpuSeconds;
      elapsedMillis = atMillis - mark.atMillis;
    } else {
      const startedMillis = sample.startedAt === null ? NaN : Date.parse(sample.startedAt);
      elapsedMillis = atMillis - startedMillis;
    }
    if (!(elapsedMillis > 0)) return 0;
    const share = cpuSeconds / (elapsedMillis / 1000) / this.options.cpuCount;
    return Math.min(1, Math.max(0, share));
  }

  private remember(samples: readonly ProcessSummary[], atMillis: number): void {
    let kept = samples;
    if (samples.length > this.options.maxRememberedPids) {
      // The busiest by lifetime CPU are the likeliest to be in the top N next cycle.
      kept = [...samples]
        .sort((a, b) => b.cpuSeconds - a.cpuSeconds)
        .slice(0, this.options.maxRememberedPids);
    }
    this.marks = new Map(kept.map((s) => [keyOf(s), { cpuSeconds: s.cpuSeconds, atMillis }]));
  }
}

/** Pid plus start time, so a reused pid is a new process, not a negative CPU delta. */
function keyOf(sample: ProcessSummary): string {
  return `${sample.pid}@${sample.startedAt ?? ''}`;
}
