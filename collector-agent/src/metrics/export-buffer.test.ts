import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeBatch } from './batch-codec.js';
import { FileBatchStore } from './batch-spool.js';
import { MemoryBatchStore } from './batch-store.js';
import {
  ExportBuffer,
  type BufferEvents,
  type BufferStats,
  type DropReason,
} from './export-buffer.js';
import { literalBatch, valueOf } from './test-support/fixtures.js';

/** Literal batches of one-digit seconds encode to the same size: bounds count in batches. */
const BATCH_BYTES = encodeBatch(literalBatch(1)).length;

class RecordedEvents implements BufferEvents {
  readonly drops: Array<[DropReason, string]> = [];
  readonly restores: Array<[number, number]> = [];
  dropped(reason: DropReason, detail: string): void {
    this.drops.push([reason, detail]);
  }
  restored(stats: BufferStats): void {
    this.restores.push([stats.intervals, stats.bytes]);
  }
  readonly closings: Array<[number, boolean]> = [];
  closing(stats: BufferStats, kept: boolean): void {
    this.closings.push([stats.intervals, kept]);
  }
}

async function drain(buffer: ExportBuffer): Promise<number[]> {
  const values: number[] = [];
  for (let next = await buffer.oldest(); next; next = await buffer.oldest()) {
    values.push(valueOf(next.batch)!);
    await buffer.remove(next.sequence);
  }
  return values;
}

async function addAll(buffer: ExportBuffer, seconds: number[]): Promise<void> {
  for (const second of seconds) await buffer.add(buffer.reserveSequence(), literalBatch(second));
}

describe('ExportBuffer in memory', () => {
  it('gives batches back oldest first and counts its size by their encoded bytes', async () => {
    const events = new RecordedEvents();
    const buffer = new ExportBuffer(new MemoryBatchStore(), 10 * BATCH_BYTES, events);
    expect(buffer.isEmpty).toBe(true);
    await addAll(buffer, [1, 2, 3]);
    expect(buffer.stats()).toEqual({
      bytes: 3 * BATCH_BYTES,
      intervals: 3,
      limitBytes: 10 * BATCH_BYTES,
      dropped: { buffer_full: 0, rejected: 0, spool_error: 0 },
    });
    await buffer.add(buffer.reserveSequence(), literalBatch(4));
    await buffer.close();
    expect(events.closings).toEqual([[4, false]]); // lost with the process: said so
    expect(await drain(buffer)).toEqual([1, 2, 3, 4]);
    expect(buffer.stats()).toMatchObject({ bytes: 0, intervals: 0 });
    expect(events.drops).toEqual([]);
  });

  it('keeps a batch at its production place even when added after younger ones', async () => {
    const buffer = new ExportBuffer(new MemoryBatchStore(), 10 * BATCH_BYTES, new RecordedEvents());
    const first = buffer.reserveSequence(); // its send is in flight ...
    await addAll(buffer, [20, 30]); // ... while the next intervals are buffered
    await buffer.add(first, literalBatch(10)); // then it fails
    expect(await drain(buffer)).toEqual([10, 20, 30]);
  });

  it('stays within its bound by dropping the oldest intervals, and counts each one', async () => {
    const events = new RecordedEvents();
    const buffer = new ExportBuffer(new MemoryBatchStore(), 3 * BATCH_BYTES, events);
    await addAll(buffer, [1, 2, 3, 4, 5]);
    expect(buffer.stats()).toMatchObject({
      bytes: 3 * BATCH_BYTES,
      intervals: 3,
      dropped: { buffer_full: 2, rejected: 0, spool_error: 0 },
    });
    expect(events.drops).toEqual([
      ['buffer_full', 'oldest interval dropped'],
      ['buffer_full', 'oldest interval dropped'],
    ]);
    expect(await drain(buffer)).toEqual([3, 4, 5]);
  });

  it('drops a batch larger than the whole bound, and with a bound of 0 keeps nothing', async () => {
    const events = new RecordedEvents();
    const buffer = new ExportBuffer(new MemoryBatchStore(), BATCH_BYTES - 1, events);
    await addAll(buffer, [1]);
    expect(buffer.isEmpty).toBe(true);
    expect(events.drops).toEqual([['buffer_full', 'the batch is larger than the whole buffer']]);
    const none = new ExportBuffer(new MemoryBatchStore(), 0, new RecordedEvents());
    await addAll(none, [1, 2]);
    expect(none.stats()).toMatchObject({ intervals: 0, bytes: 0, dropped: { buffer_full: 2 } });
  });

  it('counts a batch the Collector refused for good apart from the ones that did not fit', () => {
    const events = new RecordedEvents();
    const buffer = new ExportBuffer(new MemoryBatchStore(), BATCH_BYTES, events);
    buffer.countRejected('3 INVALID_ARGUMENT: malformed');
    expect(buffer.stats().dropped).toEqual({ buffer_full: 0, rejected: 1, spool_error: 0 });
    expect(events.drops).toEqual([['rejected', '3 INVALID_ARGUMENT: malformed']]);
  });
});

describe('ExportBuffer spooled to files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'export-spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const spool = () => join(dir, 'export-spool');

  it('writes one 0600 file per batch and gives them back after a restart, oldest first', async () => {
    const firstEvents = new RecordedEvents();
    const first = new ExportBuffer(new FileBatchStore(spool()), 10 * BATCH_BYTES, firstEvents);
    await addAll(first, [1, 2, 3]);
    await first.close();
    expect(firstEvents.closings).toEqual([[3, true]]);
    const files = readdirSync(spool()).sort();
    expect(files).toEqual([
      '0000000000000001.json',
      '0000000000000002.json',
      '0000000000000003.json',
    ]);
    for (const file of files) expect(statSync(join(spool(), file)).mode & 0o777).toBe(0o600);
    expect(statSync(spool()).mode & 0o777).toBe(0o700);

    // The agent restarts: the new buffer finds them, continues the numbering after them.
    const events = new RecordedEvents();
    const second = new ExportBuffer(new FileBatchStore(spool()), 10 * BATCH_BYTES, events);
    expect(events.restores).toEqual([[3, 3 * BATCH_BYTES]]);
    expect(second.stats()).toMatchObject({ intervals: 3, bytes: 3 * BATCH_BYTES });
    await addAll(second, [4]);
    expect(readdirSync(spool())).toContain('0000000000000004.json');
    expect(await drain(second)).toEqual([1, 2, 3, 4]);
    expect(readdirSync(spool())).toEqual([]);
  });

  it('applies a smaller bound to what it finds at start', async () => {
    const first = new ExportBuffer(
      new FileBatchStore(spool()),
      10 * BATCH_BYTES,
      new RecordedEvents(),
    );
    await addAll(first, [1, 2, 3, 4]);
    const events = new RecordedEvents();
    const second = new ExportBuffer(new FileBatchStore(spool()), 2 * BATCH_BYTES, events);
    await second.settled();
    expect(second.stats()).toMatchObject({ intervals: 2, dropped: { buffer_full: 2 } });
    expect(readdirSync(spool()).sort()).toEqual(['0000000000000003.json', '0000000000000004.json']);
    expect(await drain(second)).toEqual([3, 4]);
  });

  it('ignores a corrupt spool file with a log line, counts it, and goes on with the next', async () => {
    const first = new ExportBuffer(
      new FileBatchStore(spool()),
      10 * BATCH_BYTES,
      new RecordedEvents(),
    );
    await addAll(first, [1, 2, 3]);
    writeFileSync(join(spool(), '0000000000000002.json'), '{"v":1,"resource":{"attri');
    writeFileSync(join(spool(), '0000000000000007.json.partial'), 'half a write');
    writeFileSync(join(spool(), 'notes.txt'), 'not ours');

    const events = new RecordedEvents();
    const second = new ExportBuffer(new FileBatchStore(spool()), 10 * BATCH_BYTES, events);
    expect(second.stats().intervals).toBe(3);
    expect(await drain(second)).toEqual([1, 3]);
    expect(second.stats().dropped).toEqual({ buffer_full: 0, rejected: 0, spool_error: 1 });
    expect(events.drops).toHaveLength(1);
    expect(events.drops[0]![0]).toBe('spool_error');
    expect(events.drops[0]![1]).toMatch(/0000000000000002\.json ignored: not JSON/);
    // The interrupted write is cleared away; a file that is not the spool's is left alone.
    expect(readdirSync(spool())).toEqual(['notes.txt']);
  });

  it('counts a batch it could not write and does not hand it out', async () => {
    const events = new RecordedEvents();
    const store = new FileBatchStore(spool());
    const buffer = new ExportBuffer(store, 10 * BATCH_BYTES, events);
    rmSync(spool(), { recursive: true });
    await addAll(buffer, [1]);
    expect(buffer.stats()).toMatchObject({ intervals: 0, bytes: 0, dropped: { spool_error: 1 } });
    expect(events.drops[0]![1]).toMatch(/not written: .*ENOENT/);
    expect(await buffer.oldest()).toBeUndefined();
  });
});
