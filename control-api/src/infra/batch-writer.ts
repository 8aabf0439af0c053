/**
 * Group commit for one kind of write: at most one write is in flight, and whatever was added
 * meanwhile goes out together in the next one. A lone item is written at once; under load,
 * batches grow by themselves instead of queueing one statement and one commit per item.
 * `write` answers one result per item, in order; `add` settles with its own item's result
 * (or its batch's error). With `alone`, a batch of several whose error it accepts is written
 * again one item at a time, so an item the database refuses fails only its own `add`.
 */
export class BatchWriter<T, R = void> {
  private queue: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  private writing: Promise<void> | undefined;

  private readonly maxBatch: number;
  /** Whether a batch's error may be one item's doing (not, say, the database being down). */
  private readonly alone: ((error: unknown) => boolean) | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    { maxBatch = 500, alone }: { maxBatch?: number; alone?: (error: unknown) => boolean } = {},
  ) {
    this.maxBatch = maxBatch;
    this.alone = alone;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError('maxBatch must be a positive integer');
    }
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Settles once everything added so far has been written or has failed. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async settle(batch: typeof this.queue): Promise<void> {
    const results = await this.write(batch.map((entry) => entry.item));
    if (results.length !== batch.length) {
      throw new Error(`a batch of ${batch.length} got ${results.length} results`);
    }
    batch.forEach((entry, i) => entry.resolve(results[i] as R));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.settle(batch);
      } catch (error) {
        if (batch.length > 1 && this.alone?.(error)) {
          for (const entry of batch) await this.settle([entry]).catch(entry.reject);
        } else {
          for (const entry of batch) entry.reject(error);
        }
      }
    }
    this.writing = undefined;
  }
}
