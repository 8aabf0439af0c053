import { DataPointType } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import type { BufferStats } from './export-buffer.js';
import { MetricsHarness, pointsOf } from './test-support/fixtures.js';
import { ExportBufferCollector } from './export-buffer-metrics.js';

describe('ExportBufferCollector', () => {
  it("reports the buffer's size, bound, held intervals and drops by reason", async () => {
    const stats: BufferStats = {
      bytes: 5000,
      intervals: 3,
      limitBytes: 8192,
      dropped: { buffer_full: 4, rejected: 1, spool_error: 0 },
    };
    const harness = new MetricsHarness([new ExportBufferCollector(() => stats)]);
    const collection = await harness.collect();
    expect(pointsOf(collection, 'cybercorp.agent.export.buffer.size')).toEqual([
      { attributes: {}, value: 5000 },
    ]);
    expect(pointsOf(collection, 'cybercorp.agent.export.buffer.limit')).toEqual([
      { attributes: {}, value: 8192 },
    ]);
    expect(pointsOf(collection, 'cybercorp.agent.export.buffer.intervals')).toEqual([
      { attributes: {}, value: 3 },
    ]);
    expect(pointsOf(collection, 'cybercorp.agent.export.buffer.dropped')).toEqual([
      { attributes: { reason: 'buffer_full' }, value: 4 },
      { attributes: { reason: 'rejected' }, value: 1 },
      { attributes: { reason: 'spool_error' }, value: 0 },
    ]);
    const dropped = collection.metrics.get('cybercorp.agent.export.buffer.dropped');
    expect(dropped).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: true });
    expect(dropped?.descriptor.unit).toBe('{interval}');
    expect(collection.metrics.get('cybercorp.agent.export.buffer.size')?.descriptor.unit).toBe(
      'By',
    );
    await harness.shutdown();
  });
});
