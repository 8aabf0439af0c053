import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import { withPoints, type MetricCycle, type Observation } from '../metric-data.js';
import { parseMemInfo, type MemInfo } from '../../proc/meminfo.js';
import {
  ATTR_SYSTEM_MEMORY_STATE,
  METRIC_SYSTEM_MEMORY_LIMIT,
  METRIC_SYSTEM_MEMORY_USAGE,
  METRIC_SYSTEM_MEMORY_UTILIZATION,
  MEMORY_STATES,
  UNIT_BYTES,
  UNIT_RATIO,
  type MemoryState,
} from '../semconv.js';

const MEMORY_USAGE = {
  name: METRIC_SYSTEM_MEMORY_USAGE,
  description: 'Bytes of memory in each state',
  unit: UNIT_BYTES,
};
const MEMORY_UTILIZATION = {
  name: METRIC_SYSTEM_MEMORY_UTILIZATION,
  description: 'Share of memory in each state',
  unit: UNIT_RATIO,
};
const MEMORY_LIMIT = {
  name: METRIC_SYSTEM_MEMORY_LIMIT,
  description: 'Total memory the operating system can use',
  unit: UNIT_BYTES,
};

/** The four states add up to the total, so a stacked panel shows the whole memory. */
function bytesByState(info: MemInfo): Record<MemoryState, number> {
  const used = Math.max(0, info.total - info.free - info.buffers - info.cached);
  return { used, free: info.free, buffers: info.buffers, cached: info.cached };
}

/** `system.memory.usage` and `.utilization` by state, and `system.memory.limit`, from /proc/meminfo. */
export class MemoryCollector implements MetricsCollector {
  readonly name = 'memory';

  constructor(private readonly files: HostFiles) {}

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    const info = parseMemInfo(await this.files.readProc('meminfo'));
    const bytes = bytesByState(info);
    const usage: Observation[] = [];
    const utilization: Observation[] = [];
    for (const state of MEMORY_STATES) {
      const attributes = { [ATTR_SYSTEM_MEMORY_STATE]: state };
      usage.push({ attributes, value: bytes[state] });
      utilization.push({ attributes, value: bytes[state] / info.total });
    }
    return withPoints([
      cycle.upDownCounter(MEMORY_USAGE, usage),
      cycle.gauge(MEMORY_UTILIZATION, utilization),
      cycle.upDownCounter(MEMORY_LIMIT, [{ attributes: {}, value: info.total }]),
    ]);
  }
}
