import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { decodeBatch, encodeBatch } from './batch-codec.js';
import type { BatchStore, StoredBatch } from './batch-store.js';

/** Why an interval left the buffer without reaching the Collector. */
export const DROP_REASONS = ['buffer_full', 'rejected', 'spool_error'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** What the buffer tells the outage log, with its state right after the event. */
export interface BufferEvents {
  dropped(reason: DropReason, detail: string, stats: BufferStats): void;
  /** Batches an earlier run left in the spool were found at start. */
  restored(stats: BufferStats): void;
  /** The agent stops while batches are held: kept in the spool, or lost with the process. */
  closing(stats: BufferStats, kept: boolean): void;
}

export interface BufferStats {
  /** Encoded size of the held batches. */
  bytes: number;
  intervals: number;
  limitBytes: number;
  /** Intervals dropped since start, by reason. */
  dropped: Record<DropReason, number>;
}

/** One held batch; `written` settles once its bytes are in the store (or failed to get there). */
interface HeldBatch extends StoredBatch {
  written: Promise<void>;
}

/**
 * The agent's offline buffer: export batches the Collector has not taken, oldest first, bounded
 * by the total of their encoded sizes. A batch that does not fit pushes the oldest out; every
 * interval that leaves without being delivered is counted by reason. The index (sequence and
 * size of each batch) is in memory; the bytes are in the store. A batch is read or removed only
 * after its write has settled.
 */
export class ExportBuffer {
  private readonly entries: HeldBatch[];
  private bytes = 0;
  private nextSequence: number;
  private readonly pending = new Set<Promise<void>>();
  private readonly droppedByReason = Object.fromEntries(
    DROP_REASONS.map((reason) => [reason, 0]),
  ) as Record<DropReason, number>;

  constructor(
    private readonly store: BatchStore,
    readonly limitBytes: number,
    private readonly events: BufferEvents,
  ) {
    this.entries = store
      .list()
      .sort((a, b) => a.sequence - b.sequence)
      .map((stored) => ({ ...stored, written: Promise.resolve() }));
    for (const entry of this.entries) this.bytes += entry.sizeBytes;
    this.nextSequence = (this.entries.at(-1)?.sequence ?? 0) + 1;
    if (this.entries.length > 0) this.events.restored(this.stats());
    this.trim();
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** The place of a batch produced now; batches leave in this order whenever they are added. */
  reserveSequence(): number {
    return this.nextSequence++;
  }

  stats(): BufferStats {
    return {
      bytes: this.bytes,
      intervals: this.entries.length,
      limitBytes: this.limitBytes,
      dropped: { ...this.droppedByReason },
    };
  }

  /** Keeps `batch` at its place in production order, dropping the oldest to stay in bounds. */
  add(sequence: number, batch: ResourceMetrics): Promise<void> {
    const bytes = encodeBatch(batch);
    const entry: HeldBatch = { sequence, sizeBytes: bytes.length, written: Promise.resolve() };
    let at = this.entries.length;
    while (at > 0 && this.entries[at - 1]!.sequence > sequence) at--;
    this.entries.splice(at, 0, entry);
    this.bytes += entry.sizeBytes;
    this.trim();
    if (!this.entries.includes(entry)) return Promise.resolve();
    entry.written = this.track(
      this.store.write(sequence, bytes).catch((error: unknown) => {
        this.forget(entry);
        this.drop('spool_error', `${this.store.describe(sequence)} not written: ${String(error)}`);
      }),
    );
    return entry.written;
  }

  /**
   * The oldest batch, decoded. One that cannot be read back (a corrupt spool file) is removed,
   * counted and logged, and the next one is tried.
   */
  async oldest(): Promise<{ sequence: number; batch: ResourceMetrics } | undefined> {
    for (let entry = this.entries[0]; entry; entry = this.entries[0]) {
      await entry.written;
      if (this.entries[0] !== entry) continue; // not written, or dropped meanwhile
      try {
        const batch = decodeBatch(await this.store.read(entry.sequence));
        return { sequence: entry.sequence, batch };
      } catch (error) {
        if (this.entries[0] !== entry) continue;
        this.forget(entry);
        await this.removeStored(entry);
        this.drop(
          'spool_error',
          `${this.store.describe(entry.sequence)} ignored: ${(error as Error).message}`,
        );
      }
    }
    return undefined;
  }

  /** The batch was delivered (or refused for good, see `countRejected`): it leaves the buffer. */
  async remove(sequence: number): Promise<void> {
    const entry = this.entries.find((e) => e.sequence === sequence);
    if (!entry) return;
    this.forget(entry);
    await this.removeStored(entry);
  }

  /** The Collector refused a batch for good (malformed): it is dropped, not retried. */
  countRejected(reason: string): void {
    this.drop('rejected', reason);
  }

  /** The agent stops: says what happens to what is still held, once every write has settled. */
  async close(): Promise<void> {
    await this.settled();
    if (this.entries.length > 0) this.events.closing(this.stats(), this.store.persistent);
  }

  /** Resolves once every write and removal asked for so far has settled. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return work;
  }

  /** A file left behind costs disk, not order: it is listed again (and re-sent) after a restart. */
  private removeStored(entry: HeldBatch): Promise<void> {
    return this.track(
      entry.written.then(() => this.store.remove(entry.sequence)).catch(() => undefined),
    );
  }

  /** Drops the oldest batches until the held total is within the bound. */
  private trim(): void {
    while (this.bytes > this.limitBytes && this.entries.length > 0) {
      const oldest = this.entries[0]!;
      this.forget(oldest);
      this.drop(
        'buffer_full',
        oldest.sizeBytes > this.limitBytes
          ? 'the batch is larger than the whole buffer'
          : 'oldest interval dropped',
      );
      void this.removeStored(oldest);
    }
  }

  private forget(entry: HeldBatch): void {
    const at = this.entries.indexOf(entry);
    if (at < 0) return;
    this.entries.splice(at, 1);
    this.bytes -= entry.sizeBytes;
  }

  private drop(reason: DropReason, detail: string): void {
    this.droppedByReason[reason] += 1;
    this.events.dropped(reason, detail, this.stats());
  }
}
