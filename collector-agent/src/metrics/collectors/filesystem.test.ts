import { afterEach, describe, expect, it } from 'vitest';
import { parseMounts } from '../../proc/mounts.js';
import { FixtureHostFiles, MetricsHarness, pointsOf } from '../test-support/fixtures.js';
import { FilesystemCollector, selectFilesystems } from './filesystem.js';

const MOUNTS = `proc /proc proc rw,relatime 0 0
sysfs /sys sysfs rw,relatime 0 0
overlay / overlay rw,relatime,lowerdir=/a,upperdir=/b,workdir=/c 0 0
tmpfs /dev/shm tmpfs rw,relatime 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw 0 0
/dev/vda /etc/hosts ext4 rw,relatime 0 0
/dev/vda /data ext4 rw,relatime 0 0
/dev/vdb /backup xfs ro,relatime 0 0
`;

describe('selectFilesystems', () => {
  it('drops pseudo filesystems and keeps each block device once under its shortest path', () => {
    expect(
      selectFilesystems(parseMounts(MOUNTS)).map((m) => `${m.device} ${m.mountpoint}`),
    ).toEqual(['overlay /', '/dev/vdb /backup', '/dev/vda /data']);
  });
});

describe('FilesystemCollector', () => {
  let harness: MetricsHarness | undefined;
  afterEach(() => harness?.shutdown());

  it('reports used, free and reserved bytes and their shares with device, mountpoint, type and mode', async () => {
    const files = new FixtureHostFiles(
      { 'self/mounts': MOUNTS },
      {
        '/': { blockSize: 4096, blocks: 1000, freeBlocks: 400, availableBlocks: 350 },
        '/data': { blockSize: 1024, blocks: 100, freeBlocks: 100, availableBlocks: 100 },
        '/backup': { blockSize: 512, blocks: 10, freeBlocks: 0, availableBlocks: 0 },
      },
    );
    const errors: Error[] = [];
    harness = new MetricsHarness([new FilesystemCollector(files, (e) => errors.push(e))]);
    const collection = await harness.collect();
    expect(collection.metrics.get('system.filesystem.usage')?.descriptor.unit).toBe('By');
    const root = {
      'system.device': 'overlay',
      'system.filesystem.mountpoint': '/',
      'system.filesystem.type': 'overlay',
      'system.filesystem.mode': 'rw',
    };
    const usage = pointsOf(collection, 'system.filesystem.usage');
    expect(usage).toContainEqual({
      attributes: { ...root, 'system.filesystem.state': 'used' },
      value: 600 * 4096,
    });
    expect(usage).toContainEqual({
      attributes: { ...root, 'system.filesystem.state': 'free' },
      value: 350 * 4096,
    });
    expect(usage).toContainEqual({
      attributes: { ...root, 'system.filesystem.state': 'reserved' },
      value: 50 * 4096,
    });
    expect(usage).toHaveLength(3 * 3);
    const utilization = pointsOf(collection, 'system.filesystem.utilization');
    expect(utilization).toContainEqual({
      attributes: {
        'system.device': '/dev/vdb',
        'system.filesystem.mountpoint': '/backup',
        'system.filesystem.type': 'xfs',
        'system.filesystem.mode': 'ro',
        'system.filesystem.state': 'used',
      },
      value: 1,
    });
    expect(errors).toEqual([]);
  });

  it('reports a mount that cannot be queried and still measures the others', async () => {
    const files = new FixtureHostFiles(
      { 'self/mounts': MOUNTS },
      {
        '/': { blockSize: 4096, blocks: 1000, freeBlocks: 400, availableBlocks: 350 },
        '/data': new Error('EACCES: permission denied'),
        '/backup': { blockSize: 512, blocks: 10, freeBlocks: 0, availableBlocks: 0 },
      },
    );
    const errors: Error[] = [];
    harness = new MetricsHarness([new FilesystemCollector(files, (e) => errors.push(e))]);
    const collection = await harness.collect();
    const mountpoints = new Set(
      pointsOf(collection, 'system.filesystem.usage').map(
        (p) => p.attributes['system.filesystem.mountpoint'],
      ),
    );
    expect(mountpoints).toEqual(new Set(['/', '/backup']));
    expect(errors.map((e) => e.message)).toEqual([
      'statfs /data failed: EACCES: permission denied',
    ]);
  });
});
