import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from '../collector.js';
import type { FilesystemStats, HostFiles } from '../host-files.js';
import { withPoints, type MetricCycle, type Observation } from '../metric-data.js';
import { parseMounts, type Mount } from '../../proc/mounts.js';
import {
  ATTR_SYSTEM_DEVICE,
  ATTR_SYSTEM_FILESYSTEM_MODE,
  ATTR_SYSTEM_FILESYSTEM_MOUNTPOINT,
  ATTR_SYSTEM_FILESYSTEM_STATE,
  ATTR_SYSTEM_FILESYSTEM_TYPE,
  FILESYSTEM_STATES,
  METRIC_SYSTEM_FILESYSTEM_USAGE,
  METRIC_SYSTEM_FILESYSTEM_UTILIZATION,
  UNIT_BYTES,
  UNIT_RATIO,
  type FilesystemState,
} from '../semconv.js';

const FILESYSTEM_USAGE = {
  name: METRIC_SYSTEM_FILESYSTEM_USAGE,
  description: 'Bytes used, free for users and reserved for root per filesystem',
  unit: UNIT_BYTES,
};
const FILESYSTEM_UTILIZATION = {
  name: METRIC_SYSTEM_FILESYSTEM_UTILIZATION,
  description: 'Share of each filesystem in each state',
  unit: UNIT_RATIO,
};

/**
 * Kernel interfaces and memory-backed filesystems: they hold no data an operator sizes disks
 * for (tmpfs is memory and shows in system.memory). Overlay stays in: it is the root of every
 * container and fills up like a disk.
 */
export const PSEUDO_FILESYSTEM_TYPES: ReadonlySet<string> = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'efivarfs',
  'fusectl',
  'hugetlbfs',
  'mqueue',
  'nsfs',
  'proc',
  'pstore',
  'ramfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'squashfs',
  'sysfs',
  'tmpfs',
  'tracefs',
]);

/**
 * The mounts worth a series: real filesystems, each block device once (bind mounts and file
 * mounts such as a container's /etc/hosts repeat their device; the shortest path names it best).
 */
export function selectFilesystems(mounts: readonly Mount[]): Mount[] {
  const byDevice = new Map<string, Mount>();
  const result: Mount[] = [];
  for (const mount of mounts) {
    if (PSEUDO_FILESYSTEM_TYPES.has(mount.type)) continue;
    if (!mount.device.startsWith('/')) {
      result.push(mount);
      continue;
    }
    const seen = byDevice.get(mount.device);
    if (!seen || mount.mountpoint.length < seen.mountpoint.length)
      byDevice.set(mount.device, mount);
  }
  // Code-unit order, not localeCompare: collation would map ICU's data into the agent (~3 MB RSS).
  return [...result, ...byDevice.values()].sort((a, b) =>
    a.mountpoint < b.mountpoint ? -1 : a.mountpoint > b.mountpoint ? 1 : 0,
  );
}

function bytesByState(stats: FilesystemStats): Record<FilesystemState, number> {
  return {
    used: (stats.blocks - stats.freeBlocks) * stats.blockSize,
    free: stats.availableBlocks * stats.blockSize,
    reserved: (stats.freeBlocks - stats.availableBlocks) * stats.blockSize,
  };
}

/**
 * `system.filesystem.usage` and `.utilization` per mounted filesystem and state. One mount that
 * cannot be queried (permission, a vanished mount) is reported and skipped; the others still
 * count, as an exception would drop the whole batch.
 */
export class FilesystemCollector implements MetricsCollector {
  readonly name = 'filesystem';

  constructor(
    private readonly files: HostFiles,
    private readonly reportError: (error: Error) => void,
  ) {}

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    const mounts = selectFilesystems(parseMounts(await this.files.readProc('self/mounts')));
    const measured = await Promise.all(mounts.map((mount) => this.measure(mount)));
    const usage: Observation[] = [];
    const utilization: Observation[] = [];
    for (const entry of measured) {
      if (!entry) continue;
      const { mount, stats } = entry;
      const bytes = bytesByState(stats);
      const total = stats.blocks * stats.blockSize;
      for (const state of FILESYSTEM_STATES) {
        const attributes = {
          [ATTR_SYSTEM_DEVICE]: mount.device,
          [ATTR_SYSTEM_FILESYSTEM_MOUNTPOINT]: mount.mountpoint,
          [ATTR_SYSTEM_FILESYSTEM_TYPE]: mount.type,
          [ATTR_SYSTEM_FILESYSTEM_MODE]: mount.readOnly ? 'ro' : 'rw',
          [ATTR_SYSTEM_FILESYSTEM_STATE]: state,
        };
        usage.push({ attributes, value: bytes[state] });
        if (total > 0) utilization.push({ attributes, value: bytes[state] / total });
      }
    }
    return withPoints([
      cycle.upDownCounter(FILESYSTEM_USAGE, usage),
      cycle.gauge(FILESYSTEM_UTILIZATION, utilization),
    ]);
  }

  private async measure(
    mount: Mount,
  ): Promise<{ mount: Mount; stats: FilesystemStats } | undefined> {
    try {
      return { mount, stats: await this.files.statfs(mount.mountpoint) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.reportError(new Error(`statfs ${mount.mountpoint} failed: ${reason}`, { cause: error }));
      return undefined;
    }
  }
}
