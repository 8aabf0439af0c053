import { emptyResource } from '@opentelemetry/resources';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import type { BufferStats } from './export-buffer.js';
import { OutageLoggingExporter } from './outage-logging-exporter.js';
import {
  EXPORT_INVALID,
  EXPORT_OK,
  EXPORT_UNAVAILABLE,
  ScriptedExporter,
} from './test-support/fixtures.js';

const ok = EXPORT_OK;
const down = EXPORT_UNAVAILABLE;
const batch: ResourceMetrics = { resource: emptyResource(), scopeMetrics: [] };

describe('OutageLoggingExporter', () => {
  it('logs an outage once when it starts and once when it ends, passing every result on', () => {
    const lines: string[] = [];
    const logger = {
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
    };
    let now = 0;
    const exporter = new OutageLoggingExporter(
      new ScriptedExporter([ok, down, down, down, ok, ok]),
      logger,
      'http://127.0.0.1:4317',
      () => now,
    );
    const results: number[] = [];
    for (let i = 0; i < 6; i++) {
      exporter.export(batch, (r) => results.push(r.code));
      now += 10_000;
    }
    expect(results).toEqual([0, 1, 1, 1, 0, 0]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^warn metrics export to http:\/\/127.0.0.1:4317 failing \(14 UNAVAILABLE/,
    );
    expect(lines[1]).toBe(
      'info metrics export to http://127.0.0.1:4317 recovered after 3 failed export(s) over 30 s',
    );
    expect(exporter.failing).toBe(false);
  });

  it("passes the inner exporter's temporality choice on", () => {
    const inner = new ScriptedExporter([]);
    const withChoice = Object.assign(inner, { selectAggregationTemporality: () => 1 });
    const logger = { info: () => {}, warn: () => {} };
    const exporter = new OutageLoggingExporter(withChoice, logger, 'x');
    expect(exporter.selectAggregationTemporality?.('COUNTER' as never)).toBe(1);
    expect(
      new OutageLoggingExporter(new ScriptedExporter([]), logger, 'x').selectAggregationTemporality,
    ).toBeUndefined();
  });

  it('mentions the buffer, and takes a batch refused for good as an answer, not an outage', () => {
    const lines: string[] = [];
    const logger = {
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
    };
    const stats: BufferStats = {
      bytes: 3 * 1024 * 1024,
      intervals: 7,
      limitBytes: 32 * 1024 * 1024,
      dropped: { buffer_full: 2, rejected: 0, spool_error: 0 },
    };
    let now = 0;
    const exporter = new OutageLoggingExporter(
      new ScriptedExporter([EXPORT_INVALID, down, ok]),
      logger,
      'http://127.0.0.1:4317',
      () => now,
      () => stats,
    );
    for (let i = 0; i < 3; i++) {
      exporter.export(batch, () => undefined);
      if (i === 0) expect(exporter.failing).toBe(false);
      now += 10_000;
    }
    expect(lines).toEqual([
      'warn metrics export to http://127.0.0.1:4317 failing (14 UNAVAILABLE: No connection ' +
        'established); the agent keeps running and buffers up to 32.0 MiB of metrics to send, ' +
        'oldest first, when the Collector answers again',
      'info metrics export to http://127.0.0.1:4317 recovered after 1 failed export(s) over ' +
        '10 s; 7 buffered interval(s) to send, oldest first; 2 interval(s) dropped as the ' +
        'buffer filled',
    ]);
  });

  it('logs dropped intervals at once, then at most once a minute per reason with the count', () => {
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
    const stats: BufferStats = {
      bytes: 2048,
      intervals: 2,
      limitBytes: 2048,
      dropped: { buffer_full: 0, rejected: 0, spool_error: 0 },
    };
    let now = 0;
    const log = new OutageLoggingExporter(new ScriptedExporter([]), logger, 'x', () => now);
    for (let i = 1; i <= 7; i++) {
      stats.dropped.buffer_full = i;
      log.dropped('buffer_full', 'oldest interval dropped', stats);
      now += 10_000;
    }
    stats.dropped.spool_error = 1;
    log.dropped(
      'spool_error',
      '/state/export-spool/0000000000000002.json ignored: not JSON',
      stats,
    );
    expect(lines).toEqual([
      'metrics export buffer full (CYBERCORP_BUFFER_MAX_BYTES): oldest interval dropped; ' +
        '1 interval(s) dropped so far; holding 2 interval(s), 2.0 KiB of 2.0 KiB',
      'metrics export buffer full (CYBERCORP_BUFFER_MAX_BYTES): oldest interval dropped ' +
        '(5 more since the last such line); 7 interval(s) dropped so far; holding 2 ' +
        'interval(s), 2.0 KiB of 2.0 KiB',
      'metrics export spool: /state/export-spool/0000000000000002.json ignored: not JSON; ' +
        '1 interval(s) lost so far; holding 2 interval(s), 2.0 KiB of 2.0 KiB',
    ]);
  });
});
