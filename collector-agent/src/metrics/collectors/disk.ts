import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import { withPoints, type MetricCycle, type Observation } from '../metric-data.js';
import { isWholeDisk, parseDiskStats } from '../../proc/diskstats.js';
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

const DISK_IO = {
  name: METRIC_SYSTEM_DISK_IO,
  description: 'Bytes read from and written to each disk',
  unit: UNIT_BYTES,
};
const DISK_OPERATIONS = {
  name: METRIC_SYSTEM_DISK_OPERATIONS,
  description: 'Completed read and write operations per disk',
  unit: UNIT_OPERATIONS,
};
const DISK_IO_TIME = {
  name: METRIC_SYSTEM_DISK_IO_TIME,
  description: 'Seconds each disk had I/O in flight',
  unit: UNIT_SECONDS,
};

/** `system.disk.io`, `.operations` and `.io_time` per whole disk, from /proc/diskstats. */
export class DiskCollector implements MetricsCollector {
  readonly name = 'disk';

  constructor(private readonly files: HostFiles) {}

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    const io: Observation[] = [];
    const operations: Observation[] = [];
    const ioTime: Observation[] = [];
    for (const disk of parseDiskStats(await this.files.readProc('diskstats'))) {
      if (!isWholeDisk(disk.name)) continue;
      const read = { [ATTR_SYSTEM_DEVICE]: disk.name, [ATTR_DISK_IO_DIRECTION]: DIRECTION_READ };
      const write = { [ATTR_SYSTEM_DEVICE]: disk.name, [ATTR_DISK_IO_DIRECTION]: DIRECTION_WRITE };
      io.push(
        { attributes: read, value: disk.readBytes },
        { attributes: write, value: disk.writeBytes },
      );
      operations.push(
        { attributes: read, value: disk.readOperations },
        { attributes: write, value: disk.writeOperations },
      );
      ioTime.push({ attributes: { [ATTR_SYSTEM_DEVICE]: disk.name }, value: disk.ioTime });
    }
    return withPoints([
      cycle.counter(DISK_IO, io),
      cycle.counter(DISK_OPERATIONS, operations),
      cycle.counter(DISK_IO_TIME, ioTime),
    ]);
  }
}
