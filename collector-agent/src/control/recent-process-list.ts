import type { ProcessSample, ProcessTable } from './processes.js';

/**
 * The process list for `process.list` commands, read from the table at most once per
 * `maxAgeMs`. A full /proc scan costs milliseconds, and dashboards poll in bursts (several
 * viewers, several panels); a CPU percentage over a few milliseconds is noise anyway. Calls
 * during a scan share it. Only listing goes through here: `process.get` and `process.signal`
 * always read the live process.
 */
export class RecentProcessList {
  private latest: { atMs: number; samples: Promise<ProcessSample[]> } | undefined;

  constructor(
    private readonly table: ProcessTable,
    /** 0 reads the table on every call. */
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  list(): Promise<ProcessSample[]> {
    const atMs = this.now();
    if (this.latest && atMs - this.latest.atMs < this.maxAgeMs) return this.latest.samples;
    const samples = this.table.list();
    const entry = { atMs, samples };
    this.latest = entry;
    // A failed scan is never served again: the next call reads the table afresh.
    samples.catch(() => {
      if (this.latest === entry) this.latest = undefined;
    });
    return samples;
  }
}
