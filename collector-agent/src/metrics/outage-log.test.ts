import { describe, expect, it } from 'vitest';
import type { BufferStats } from './export-buffer.js';
import { OutageLog } from './outage-log.js';

const unavailable = '14 UNAVAILABLE: No connection established';
const emptyBuffer: BufferStats = {
  bytes: 0,
  intervals: 0,
  limitBytes: 32 * 1024 * 1024,
  dropped: { buffer_full: 0, rejected: 0, spool_error: 0 },
};

describe('OutageLog', () => {
  it('logs an outage once when it starts and once when it ends, with the buffer then', () => {
    const lines: string[] = [];
    const logger = {
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
    };
    let now = 0;
    const log = new OutageLog(logger, 'http://127.0.0.1:4317', () => now);
    const held: BufferStats = {
      bytes: 3 * 1024 * 1024,
      intervals: 7,
      limitBytes: 32 * 1024 * 1024,
      dropped: { buffer_full: 2, rejected: 0, spool_error: 0 },
    };
    log.answered(() => emptyBuffer);
    for (let i = 0; i < 3; i++) {
      now += 10_000;
      log.unanswered(unavailable, () => emptyBuffer);
      expect(log.failing).toBe(true);
    }
    now += 10_000;
    log.answered(() => held);
    log.answered(() => emptyBuffer);
    expect(lines).toEqual([
      'warn metrics export to http://127.0.0.1:4317 failing (14 UNAVAILABLE: No connection ' +
        'established); the agent keeps running and buffers up to 32.0 MiB of metrics to send, ' +
        'oldest first, when the Collector answers again',
      'info metrics export to http://127.0.0.1:4317 recovered after 3 failed export(s) over ' +
        '30 s; 7 buffered interval(s) to send, oldest first; 2 interval(s) dropped as the ' +
        'buffer filled',
    ]);
    expect(log.failing).toBe(false);
  });

  it('says metrics are dropped, not buffered, when the buffer holds nothing', () => {
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
    new OutageLog(logger, 'x').unanswered(unavailable, () => ({ ...emptyBuffer, limitBytes: 0 }));
    expect(lines).toEqual([
      'metrics export to x failing (14 UNAVAILABLE: No connection established); the agent ' +
        'keeps running and drops metrics until the Collector answers again',
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
    const log = new OutageLog(logger, 'x', () => now);
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
