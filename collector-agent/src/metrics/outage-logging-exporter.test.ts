import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { OutageLoggingExporter } from './outage-logging-exporter.js';

class ScriptedExporter implements PushMetricExporter {
  constructor(public results: ExportResult[]) {}
  export(_metrics: ResourceMetrics, callback: (result: ExportResult) => void): void {
    const next = this.results.shift();
    if (!next) throw new Error('no scripted result left');
    callback(next);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

const ok: ExportResult = { code: ExportResultCode.SUCCESS };
const down: ExportResult = {
  code: ExportResultCode.FAILED,
  error: new Error('14 UNAVAILABLE: No connection established'),
};
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
});
