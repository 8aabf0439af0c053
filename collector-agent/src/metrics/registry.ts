import type { MetricsCollector } from './collector.js';
import { CpuCollector } from './collectors/cpu.js';
import { DiskCollector } from './collectors/disk.js';
import { FilesystemCollector } from './collectors/filesystem.js';
import { LoadCollector } from './collectors/load.js';
import { MemoryCollector } from './collectors/memory.js';
import { NetworkCollector } from './collectors/network.js';
import { ProcessCountCollector } from './collectors/process-count.js';
import { UptimeCollector } from './collectors/uptime.js';
import type { HostFiles } from './host-files.js';
import type { ProcessSnapshot } from './process-snapshot.js';

export interface CollectorDependencies {
  files: HostFiles;
  snapshot: ProcessSnapshot;
  /** Problems that skip part of a collection without failing it (one unreadable mount). */
  reportError: (error: Error) => void;
}

/**
 * Every host collector the agent runs, in one place; `HostMetricsProducer` reads them each
 * cycle. Per-process metrics are not here: their collector needs `metrics.topN`, which follows
 * config reloads, so telemetry.ts adds it beside these.
 *
 * CPU, memory and network are ours rather than `@opentelemetry/host-metrics` 0.39's: that
 * package creates `system.cpu.utilization`, `system.memory.*` and `system.network.*` without
 * units (so the Prometheus names lose `_ratio` / `_bytes`), uses the older
 * `system.cpu.state` / `system.device` attributes, keeps its CPU baseline in module globals,
 * and reads network counters through systeminformation, which spawns a shell running `cat`
 * per interface on every collection.
 */
export function createHostCollectors(deps: CollectorDependencies): MetricsCollector[] {
  return [
    new CpuCollector(deps.files),
    new MemoryCollector(deps.files),
    new NetworkCollector(deps.files),
    new FilesystemCollector(deps.files, deps.reportError),
    new DiskCollector(deps.files),
    new LoadCollector(deps.files),
    new UptimeCollector(deps.files),
    new ProcessCountCollector(deps.snapshot),
  ];
}
