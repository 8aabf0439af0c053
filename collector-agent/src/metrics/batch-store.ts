/** A batch the buffer holds: its place in production order and its encoded size. */
export interface StoredBatch {
  readonly sequence: number;
  readonly sizeBytes: number;
}

/**
 * Where the offline buffer keeps encoded batches. The buffer decides what is kept and in which
 * order; a store only holds bytes by sequence number.
 */
export interface BatchStore {
  /** Whether what it holds outlives the process. */
  readonly persistent: boolean;
  /** Batches an earlier run left behind (a spool on disk), read once at start; in any order. */
  list(): StoredBatch[];
  write(sequence: number, bytes: Buffer): Promise<void>;
  read(sequence: number): Promise<Buffer>;
  remove(sequence: number): Promise<void>;
  /** Names one batch in a log line (its file, for a spool). */
  describe(sequence: number): string;
}

/** The default store: the encoded batches in this process's memory, gone when it exits. */
export class MemoryBatchStore implements BatchStore {
  readonly persistent = false;
  private readonly batches = new Map<number, Buffer>();

  list(): StoredBatch[] {
    return [];
  }

  async write(sequence: number, bytes: Buffer): Promise<void> {
    this.batches.set(sequence, bytes);
  }

  async read(sequence: number): Promise<Buffer> {
    const bytes = this.batches.get(sequence);
    if (!bytes) throw new Error(`no buffered batch ${sequence}`);
    return bytes;
  }

  async remove(sequence: number): Promise<void> {
    this.batches.delete(sequence);
  }

  describe(sequence: number): string {
    return `buffered batch ${sequence} (memory)`;
  }
}
