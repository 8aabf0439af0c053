import { afterEach, describe, expect, it } from 'vitest';
import { FixtureHostFiles, MetricsHarness, pointsOf } from '../test-support/fixtures.js';
import { NetworkCollector } from './network.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
  eth0: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0
`;

describe('NetworkCollector', () => {
  let harness: MetricsHarness | undefined;
  afterEach(() => harness?.shutdown());

  it('reports io, errors and drops per interface and direction with semconv units', async () => {
    harness = new MetricsHarness([
      new NetworkCollector(new FixtureHostFiles({ 'net/dev': NET_DEV })),
    ]);
    const collection = await harness.collect();
    const receive = { 'network.interface.name': 'eth0', 'network.io.direction': 'receive' };
    const transmit = { 'network.interface.name': 'eth0', 'network.io.direction': 'transmit' };
    expect(collection.metrics.get('system.network.io')?.descriptor.unit).toBe('By');
    expect(pointsOf(collection, 'system.network.io')).toEqual([
      { attributes: receive, value: 1000 },
      { attributes: transmit, value: 2000 },
    ]);
    expect(pointsOf(collection, 'system.network.errors')).toEqual([
      { attributes: receive, value: 1 },
      { attributes: transmit, value: 3 },
    ]);
    expect(pointsOf(collection, 'system.network.dropped')).toEqual([
      { attributes: receive, value: 2 },
      { attributes: transmit, value: 4 },
    ]);
    expect(collection.metrics.get('system.network.dropped')?.descriptor.unit).toBe('{packet}');
  });

  it('stops exporting an interface once it is gone', async () => {
    const files = new FixtureHostFiles({
      'net/dev': `${NET_DEV}  veth1: 5 1 0 0 0 0 0 0 6 1 0 0 0 0 0 0\n`,
    });
    harness = new MetricsHarness([new NetworkCollector(files)]);
    const names = async () =>
      new Set(
        pointsOf(await harness!.collect(), 'system.network.io').map(
          (p) => p.attributes['network.interface.name'],
        ),
      );
    expect(await names()).toEqual(new Set(['eth0', 'veth1']));
    files.proc['net/dev'] = NET_DEV;
    expect(await names()).toEqual(new Set(['eth0']));
  });
});
