import type { ProcessSummary, ProcessTable } from '../control/processes.js';

/**
 * One read of the shared process table per export cycle. The process count and the top-N
 * process metrics are collected concurrently in the same cycle; both get the same read, and
 * the table's CPU deltas are not shortened by a second read a few milliseconds later.
 */
export class ProcessSnapshot {
  private latest: { atMillis: number; samples: Promise<ProcessSummary[]> } | undefined;

  constructor(
    private readonly table: ProcessTable,
    /** Reads closer together than this share one table read; well below any export interval. */
    private readonly maxAgeMillis = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every process, without command line and owner where the table can skip them. */
  read(): Promise<ProcessSummary[]> {
    const atMillis = this.now();
    if (this.latest && atMillis - this.latest.atMillis < this.maxAgeMillis) {
      return this.latest.samples;
    }
    const samples = this.table.listSummaries ? this.table.listSummaries() : this.table.list();
    const entry = { atMillis, samples };
    this.latest = entry;
    // A failed read is not reused: the next cycle tries the table again.
    samples.catch(() => {
      if (this.latest === entry) this.latest = undefined;
    });
    return samples;
  }

  /** The owner's user name, read for the few processes a cycle exports; undefined once exited. */
  async ownerOf(process: ProcessSummary): Promise<string | undefined> {
    if ('user' in process && typeof process.user === 'string') return process.user;
    if (this.table.userOf) return this.table.userOf(process.pid);
    return (await this.table.get(process.pid))?.user;
  }
}
