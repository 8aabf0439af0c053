import { numberField, ProcParseError } from './parse-error.js';

/** Counters of one block device since boot. */
export interface DiskCounters {
  name: string;
  readOperations: number;
  readBytes: number;
  writeOperations: number;
  writeBytes: number;
  /** Seconds during which the device had I/O in flight. */
  ioTime: number;
}

const FILE = '/proc/diskstats';
/** /proc/diskstats counts sectors of 512 bytes whatever the device's real sector size. */
const SECTOR_BYTES = 512;

/** /proc/diskstats: major, minor, name, then at least 11 counters (Documentation/admin-guide/iostats.rst). */
export function parseDiskStats(text: string): DiskCounters[] {
  const result: DiskCounters[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const name = fields[2];
    if (!name || fields.length < 14) {
      throw new ProcParseError(FILE, `expected ≥ 14 fields in ${JSON.stringify(line)}`);
    }
    const field = (i: number, what: string) => numberField(FILE, fields[i], `${name} ${what}`);
    result.push({
      name,
      readOperations: field(3, 'reads completed'),
      readBytes: field(5, 'sectors read') * SECTOR_BYTES,
      writeOperations: field(7, 'writes completed'),
      writeBytes: field(9, 'sectors written') * SECTOR_BYTES,
      ioTime: field(12, 'ms doing I/O') / 1000,
    });
  }
  return result;
}

/**
 * Whole disks only: partitions would count the same bytes twice, and RAM, loop and floppy
 * devices are not storage an operator watches.
 */
const NOT_A_WHOLE_DISK =
  /^(?:z?ram\d+|loop\d+|fd\d+|(?:h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+|md\d+p\d+)$/;

export function isWholeDisk(name: string): boolean {
  return !NOT_A_WHOLE_DISK.test(name);
}
