import type { Meter } from '@opentelemetry/api';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import { isWholeDisk, parseDiskStats } from '../parse/diskstats.js';
import {
  ATTR_DISK_IO_DIRECTION,
  ATTR_SYSTEM_DEVICE,
  DIRECTION_READ,
  DIRECTION_WRITE,
  METRIC_SYSTEM_DISK_IO,
  METRIC_SYSTEM_DISK_IO_TIME,
  METRIC_SYSTEM_DISK_OPERATIONS,
  UNIT_BYTES,
  UNIT_OPERATIONS,
  UNIT_SECONDS,
} from '../semconv.js';

/** `system.disk.io`, `.operations` and `.io_time` per whole disk, from /proc/diskstats. */
export class DiskCollector implements MetricsCollector {
  readonly name = 'disk';

  constructor(private readonly files: HostFiles) {}

  register(meter: Meter): void {
    const io = meter.createObservableCounter(METRIC_SYSTEM_DISK_IO, {
      description: 'Bytes read from and written to each disk',
      unit: UNIT_BYTES,
    });
    const operations = meter.createObservableCounter(METRIC_SYSTEM_DISK_OPERATIONS, {
      description: 'Completed read and write operations per disk',
      unit: UNIT_OPERATIONS,
    });
    const ioTime = meter.createObservableCounter(METRIC_SYSTEM_DISK_IO_TIME, {
      description: 'Seconds each disk had I/O in flight',
      unit: UNIT_SECONDS,
    });
    meter.addBatchObservableCallback(
      async (result) => {
        for (const disk of parseDiskStats(await this.files.readProc('diskstats'))) {
          if (!isWholeDisk(disk.name)) continue;
          const read = {
            [ATTR_SYSTEM_DEVICE]: disk.name,
            [ATTR_DISK_IO_DIRECTION]: DIRECTION_READ,
          };
          const write = {
            [ATTR_SYSTEM_DEVICE]: disk.name,
            [ATTR_DISK_IO_DIRECTION]: DIRECTION_WRITE,
          };
          result.observe(io, disk.readBytes, read);
          result.observe(io, disk.writeBytes, write);
          result.observe(operations, disk.readOperations, read);
          result.observe(operations, disk.writeOperations, write);
          result.observe(ioTime, disk.ioTime, { [ATTR_SYSTEM_DEVICE]: disk.name });
        }
      },
      [io, operations, ioTime],
    );
  }
}
