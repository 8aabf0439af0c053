import { afterEach, describe, expect, it } from 'vitest';
import { ProcessSnapshot } from '../process-snapshot.js';
import {
  FakeProcessTable,
  MetricsHarness,
  pointsOf,
  processSample,
} from '../test-support/fixtures.js';
import { ProcessCountCollector, processStatusOf } from './process-count.js';

describe('processStatusOf', () => {
  it.each([
    ['R', 'running'],
    ['S', 'sleeping'],
    ['D', 'sleeping'],
    ['I', 'sleeping'],
    ['T', 'stopped'],
    ['t', 'stopped'],
    ['Z', 'defunct'],
    ['?', 'unknown'],
  ])('%s → %s', (state, status) => {
    expect(processStatusOf(state)).toBe(status);
  });
});

describe('ProcessCountCollector', () => {
  let harness: MetricsHarness | undefined;
  afterEach(() => harness?.shutdown());

  it('counts processes per status from the shared table', async () => {
    const table = new FakeProcessTable([
      processSample({ pid: 1, state: 'S' }),
      processSample({ pid: 2, state: 'R' }),
      processSample({ pid: 3, state: 'D' }),
      processSample({ pid: 4, state: 'Z' }),
    ]);
    harness = new MetricsHarness([new ProcessCountCollector(new ProcessSnapshot(table))]);
    const collection = await harness.collect();
    expect(collection.metrics.get('system.process.count')?.descriptor.unit).toBe('{process}');
    expect(pointsOf(collection, 'system.process.count')).toEqual([
      { attributes: { 'process.status': 'running' }, value: 1 },
      { attributes: { 'process.status': 'sleeping' }, value: 2 },
      { attributes: { 'process.status': 'stopped' }, value: 0 },
      { attributes: { 'process.status': 'defunct' }, value: 1 },
    ]);
    expect(table.reads).toBe(1);
  });
});
