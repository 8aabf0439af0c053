import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { BatchDecodeError, decodeBatch, encodeBatch } from './batch-codec.js';
import { literalBatch } from './test-support/fixtures.js';

describe('batch codec', () => {
  it('round-trips a batch with its resource, original timestamps and non-finite values', () => {
    const batch = literalBatch(1_700_000_000, Number.NaN);
    const decoded = decodeBatch(encodeBatch(batch));
    expect(decoded.resource.attributes).toEqual({
      'host.name': 'web-1',
      'service.name': 'cybercorp-agent',
    });
    expect(decoded.scopeMetrics).toEqual(batch.scopeMetrics);
    expect(decoded.scopeMetrics[0]?.metrics[0]?.dataPoints[0]?.endTime).toEqual([1_700_000_000, 0]);
    const infinite = decodeBatch(encodeBatch(literalBatch(1, -Infinity)));
    expect(infinite.scopeMetrics[0]?.metrics[0]?.dataPoints[0]?.value).toBe(-Infinity);
  });

  it('writes plain JSON unless a value is non-finite, and text that looks like one stays text', () => {
    expect(encodeBatch(literalBatch(5)).toString()).not.toContain('$nonFinite');
    expect(encodeBatch(literalBatch(5, Number.NaN)).toString()).toContain('{"$nonFinite":"NaN"}');
    const { resource, scopeMetrics } = literalBatch(7);
    const [metric] = scopeMetrics[0]!.metrics;
    const attributes = { 'process.executable.name': 'nullmailer', note: '"$nonFinite"' };
    const lookalike = {
      resource,
      scopeMetrics: [
        {
          scope: scopeMetrics[0]!.scope,
          metrics: [{ ...metric!, dataPoints: [{ ...metric!.dataPoints[0]!, attributes }] }],
        },
      ],
    } as ResourceMetrics;
    expect(decodeBatch(encodeBatch(lookalike)).scopeMetrics).toEqual(lookalike.scopeMetrics);
  });

  it('refuses bytes that are not a batch it wrote', () => {
    for (const bad of [
      '',
      '{"v":1,"resource":{"attri',
      '{"v":2,"resource":{"attributes":{}},"scopeMetrics":[]}',
      '{"v":1,"resource":{"attributes":{}},"scopeMetrics":[{"scope":{},"metrics":[{"descriptor":{"name":"x"},"dataPointType":2,"dataPoints":[{"startTime":1}]}]}]}',
    ]) {
      expect(() => decodeBatch(Buffer.from(bad)), bad).toThrow(BatchDecodeError);
    }
  });
});
