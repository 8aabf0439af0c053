import { afterEach, describe, expect, it } from 'vitest';
import { FixtureHostFiles, MetricsHarness, pointsOf } from '../test-support/fixtures.js';
import { DiskCollector } from './disk.js';

const DISKSTATS = `   7       0 loop0 12 0 24 1 0 0 0 0 0 4 1 0 0 0 0 0 0
 253       0 vda 100 0 8 0 200 0 16 0 0 1500 0 0 0 0 0 0 0
 253       1 vda1 90 0 6 0 190 0 14 0 0 1400 0 0 0 0 0 0 0
`;

describe('DiskCollector', () => {
  let harness: MetricsHarness | undefined;
  afterEach(() => harness?.shutdown());

  it('reports whole disks only, in bytes, operations and seconds', async () => {
    harness = new MetricsHarness([
      new DiskCollector(new FixtureHostFiles({ diskstats: DISKSTATS })),
    ]);
    const collection = await harness.collect();
    expect(collection.metrics.get('system.disk.io')?.descriptor.unit).toBe('By');
    expect(pointsOf(collection, 'system.disk.io')).toEqual([
      { attributes: { 'system.device': 'vda', 'disk.io.direction': 'read' }, value: 8 * 512 },
      { attributes: { 'system.device': 'vda', 'disk.io.direction': 'write' }, value: 16 * 512 },
    ]);
    expect(pointsOf(collection, 'system.disk.operations')).toEqual([
      { attributes: { 'system.device': 'vda', 'disk.io.direction': 'read' }, value: 100 },
      { attributes: { 'system.device': 'vda', 'disk.io.direction': 'write' }, value: 200 },
    ]);
    expect(pointsOf(collection, 'system.disk.io_time')).toEqual([
      { attributes: { 'system.device': 'vda' }, value: 1.5 },
    ]);
  });
});
