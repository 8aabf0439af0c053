import { describe, expect, it } from 'vitest';
import { parseMounts } from './mounts.js';

const MOUNTS = `proc /proc proc rw,relatime 0 0
/dev/vda / ext4 rw,relatime,discard 0 0
/dev/sdb1 /mnt/My\\040Disk xfs ro,noatime 0 0
tmpfs /dev/shm tmpfs rw,relatime,size=24684084k 0 0
`;

describe('parseMounts', () => {
  it('reads device, mountpoint, type and read-only flag, unescaping octal escapes', () => {
    expect(parseMounts(MOUNTS)).toEqual([
      { device: 'proc', mountpoint: '/proc', type: 'proc', readOnly: false },
      { device: '/dev/vda', mountpoint: '/', type: 'ext4', readOnly: false },
      { device: '/dev/sdb1', mountpoint: '/mnt/My Disk', type: 'xfs', readOnly: true },
      { device: 'tmpfs', mountpoint: '/dev/shm', type: 'tmpfs', readOnly: false },
    ]);
  });

  it('rejects a line with too few fields', () => {
    expect(() => parseMounts('/dev/vda /\n')).toThrow(/expected ≥ 4 fields/);
  });
});
