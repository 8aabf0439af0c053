import { describe, expect, it } from 'vitest';
import { isWholeDisk, parseDiskStats } from './diskstats.js';

const DISKSTATS = `   7       0 loop0 12 0 24 1 0 0 0 0 0 4 1 0 0 0 0 0 0
 253       0 vda 60234 1271 4391938 23019 70234 60210 8839768 80392 0 51236 107384 0 0 0 0 1200 3972
 253       1 vda1 60000 1271 4390000 23000 70000 60210 8830000 80000 0 51000 107000 0 0 0 0 0 0
 259       0 nvme0n1 10 0 80 1 20 0 160 2 0 3 3
`;

describe('parseDiskStats', () => {
  it('turns sectors into bytes and milliseconds into seconds', () => {
    const [, vda] = parseDiskStats(DISKSTATS);
    expect(vda).toEqual({
      name: 'vda',
      readOperations: 60234,
      readBytes: 4391938 * 512,
      writeOperations: 70234,
      writeBytes: 8839768 * 512,
      ioTime: 51.236,
    });
  });

  it('accepts the short 14-field layout of older kernels', () => {
    expect(parseDiskStats(DISKSTATS).map((d) => d.name)).toEqual([
      'loop0',
      'vda',
      'vda1',
      'nvme0n1',
    ]);
  });

  it('rejects a truncated line', () => {
    expect(() => parseDiskStats(' 8 0 sda 1 2 3\n')).toThrow(/expected ≥ 14 fields/);
  });
});

describe('isWholeDisk', () => {
  it.each([
    ['vda', true],
    ['sda', true],
    ['nvme0n1', true],
    ['dm-0', true],
    ['mmcblk0', true],
    ['vda1', false],
    ['sdb12', false],
    ['nvme0n1p2', false],
    ['mmcblk0p1', false],
    ['loop3', false],
    ['ram0', false],
    ['zram0', false],
  ])('%s → %s', (name, expected) => {
    expect(isWholeDisk(name)).toBe(expected);
  });
});
