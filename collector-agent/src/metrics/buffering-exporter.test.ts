import { describe, expect, it } from 'vitest';
import { encodeBatch } from './batch-codec.js';
import { MemoryBatchStore } from './batch-store.js';
import { BufferingExporter } from './buffering-exporter.js';
import { ExportBuffer, type DropReason } from './export-buffer.js';
import { isPermanentExportError } from './export-errors.js';
import {
  EXPORT_INVALID,
  EXPORT_OK,
  EXPORT_UNAVAILABLE,
  literalBatch,
  ScriptedExporter,
  valueOf,
} from './test-support/fixtures.js';

function setup(sendsPerInterval: number, limitBytes = 1024 * 1024) {
  const drops: DropReason[] = [];
  const inner = new ScriptedExporter([]);
  const buffer = new ExportBuffer(new MemoryBatchStore(), limitBytes, {
    dropped: (reason) => drops.push(reason),
    restored: () => undefined,
    closing: () => undefined,
  });
  const outcomes: string[] = [];
  const exporter = new BufferingExporter(inner, buffer, {
    sendsPerInterval,
    outcomes: {
      answered: (stats) => outcomes.push(`answered, holding ${stats().intervals}`),
      unanswered: (error, stats) =>
        outcomes.push(`unanswered (${error}), holding ${stats().intervals}`),
    },
  });
  const answers: number[] = [];
  /** One export interval: the reader hands over the batch of `second`, and the round settles. */
  const interval = async (second: number) => {
    exporter.export(literalBatch(second), (result) => answers.push(result.code));
    await exporter.forceFlush();
  };
  const sent = () => inner.sent.map(valueOf);
  return { inner, buffer, exporter, answers, interval, sent, drops, outcomes };
}

describe('BufferingExporter', () => {
  it('sends each batch at once while the Collector answers, holding nothing', async () => {
    const { inner, buffer, interval, sent, answers } = setup(5);
    inner.results = [EXPORT_OK, EXPORT_OK];
    await interval(1);
    await interval(2);
    expect(sent()).toEqual([1, 2]);
    expect(buffer.stats().intervals).toBe(0);
    expect(answers).toEqual([0, 0]);
  });

  it('keeps batches through an outage and sends them oldest first, a bounded number per interval', async () => {
    const { inner, buffer, interval, sent, answers } = setup(3);
    // Outage: the first batch fails on its way out; each later interval asks once with an
    // empty export, which fails and ends the round.
    inner.results = [EXPORT_UNAVAILABLE, EXPORT_UNAVAILABLE, EXPORT_UNAVAILABLE];
    await interval(1);
    await interval(2);
    await interval(3);
    expect(inner.results).toEqual([]);
    expect(inner.probes).toBe(2);
    expect(buffer.stats().intervals).toBe(3);
    // The reader always hears "accepted": a batch in the buffer is not a failed export.
    expect(answers).toEqual([0, 0, 0]);

    // Back: the empty export answers, then three sends, the oldest three; the fourth waits.
    inner.results = [EXPORT_OK, EXPORT_OK, EXPORT_OK, EXPORT_OK];
    await interval(4);
    expect(sent()).toEqual([1, 2, 3]);
    expect(buffer.stats().intervals).toBe(1);
    // The Collector answered last time: no more asking first.
    inner.results = [EXPORT_OK, EXPORT_OK];
    await interval(5);
    expect(sent()).toEqual([1, 2, 3, 4, 5]);
    expect(inner.probes).toBe(3);
    expect(buffer.isEmpty).toBe(true);
  });

  it('sends no held batch while the Collector does not answer, however long the outage', async () => {
    const { inner, buffer, interval } = setup(5);
    const attempted: number[] = [];
    const record = inner.export.bind(inner);
    inner.export = (metrics, callback) => {
      attempted.push(metrics.scopeMetrics.length);
      record(metrics, callback);
    };
    inner.results = Array.from({ length: 10 }, () => EXPORT_UNAVAILABLE);
    for (let second = 1; second <= 10; second++) await interval(second);
    // The first batch went out once (and failed); after that only empty exports were tried.
    expect(attempted).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(buffer.stats().intervals).toBe(10);
  });

  it('stops a round at the first failure and tries that batch first again', async () => {
    const { inner, buffer, interval, sent } = setup(5);
    inner.results = [EXPORT_UNAVAILABLE, EXPORT_UNAVAILABLE];
    await interval(1);
    await interval(2);
    inner.results = [EXPORT_OK, EXPORT_OK, EXPORT_UNAVAILABLE]; // asked; 1 goes, 2 fails
    await interval(3);
    expect(sent()).toEqual([1]);
    expect(buffer.stats().intervals).toBe(2);
    inner.results = [EXPORT_OK, EXPORT_OK, EXPORT_OK, EXPORT_OK];
    await interval(4);
    expect(sent()).toEqual([1, 2, 3, 4]);
    expect(inner.probes).toBe(3);
  });

  it('drops and counts a batch the Collector refused as malformed, and goes on with the next', async () => {
    const { inner, buffer, interval, sent, drops } = setup(5);
    inner.results = [EXPORT_INVALID];
    await interval(1); // sent directly and refused: never buffered
    inner.results = [EXPORT_UNAVAILABLE, EXPORT_UNAVAILABLE];
    await interval(2);
    await interval(3);
    inner.results = [EXPORT_OK, EXPORT_INVALID, EXPORT_OK, EXPORT_OK];
    await interval(4); // asked; 2 refused, 3 and 4 go
    expect(sent()).toEqual([3, 4]);
    expect(buffer.stats().dropped).toEqual({ buffer_full: 0, rejected: 2, spool_error: 0 });
    expect(drops).toEqual(['rejected', 'rejected']);
  });

  it('stays within the bound through a long outage and counts the intervals it dropped', async () => {
    const { inner, buffer, interval, sent } = setup(10, 2 * encodeBatch(literalBatch(1)).length);
    inner.results = Array.from({ length: 6 }, () => EXPORT_UNAVAILABLE);
    for (let second = 1; second <= 6; second++) await interval(second);
    expect(buffer.stats()).toMatchObject({ intervals: 2, dropped: { buffer_full: 4 } });
    // The first interval back still finds the buffer full: its batch pushes out the oldest.
    inner.results = [EXPORT_OK, EXPORT_OK, EXPORT_OK];
    await interval(7);
    expect(sent()).toEqual([6, 7]);
    expect(buffer.stats()).toMatchObject({ intervals: 0, dropped: { buffer_full: 5 } });
  });

  it('tells its log every outcome, the empty exports too, with what the buffer holds', async () => {
    const { inner, interval, outcomes } = setup(5);
    inner.results = [EXPORT_UNAVAILABLE, EXPORT_UNAVAILABLE];
    await interval(1);
    await interval(2);
    inner.results = [EXPORT_OK, EXPORT_INVALID, EXPORT_OK, EXPORT_OK];
    await interval(3); // asked: answered; 1 refused for good (also an answer); 2 and 3 go
    expect(inner.results).toEqual([]);
    const unavailable = EXPORT_UNAVAILABLE.error!.message;
    expect(outcomes).toEqual([
      `unanswered (${unavailable}), holding 0`,
      `unanswered (${unavailable}), holding 2`,
      'answered, holding 3',
      'answered, holding 3',
      'answered, holding 2',
      'answered, holding 1',
    ]);
  });

  it('passes the inner temporality choice on', () => {
    const inner = Object.assign(new ScriptedExporter([]), {
      selectAggregationTemporality: () => 1,
    });
    const buffer = new ExportBuffer(new MemoryBatchStore(), 0, {
      dropped: () => undefined,
      restored: () => undefined,
      closing: () => undefined,
    });
    expect(
      new BufferingExporter(inner, buffer).selectAggregationTemporality?.('COUNTER' as never),
    ).toBe(1);
  });
});

describe('isPermanentExportError', () => {
  it('is true only for a gRPC status the OTLP specification does not let a client retry', () => {
    expect(isPermanentExportError(EXPORT_INVALID.error)).toBe(true);
    expect(isPermanentExportError(EXPORT_UNAVAILABLE.error)).toBe(false);
    const status = (code: number) =>
      Object.assign(new Error(`${code}`), { code, details: '', metadata: {} });
    expect([1, 4, 8, 10, 11, 14, 15].map((c) => isPermanentExportError(status(c)))).toEqual(
      Array(7).fill(false),
    );
    expect([3, 7, 12, 16].map((c) => isPermanentExportError(status(c)))).toEqual(
      Array(4).fill(true),
    );
    // No answer from a server at all: says nothing about the batch.
    expect(isPermanentExportError(new Error('Concurrent export limit reached'))).toBe(false);
    expect(isPermanentExportError(undefined)).toBe(false);
  });
});
