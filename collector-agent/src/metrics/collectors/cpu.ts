import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import { withPoints, type MetricCycle, type Observation } from '../metric-data.js';
import { parseCpuTimes, type CpuTimes } from '../../proc/stat.js';
import {
  ATTR_CPU_LOGICAL_NUMBER,
  ATTR_CPU_MODE,
  CPU_MODES,
  METRIC_SYSTEM_CPU_TIME,
  METRIC_SYSTEM_CPU_UTILIZATION,
  UNIT_RATIO,
  UNIT_SECONDS,
} from '../semconv.js';

/** USER_HZ: the kernel reports CPU time to user space in 1/100 s on every mainstream architecture. */
const TICKS_PER_SECOND = 100;

const CPU_TIME = {
  name: METRIC_SYSTEM_CPU_TIME,
  description: 'Seconds each logical CPU spent in each mode',
  unit: UNIT_SECONDS,
};
const CPU_UTILIZATION = {
  name: METRIC_SYSTEM_CPU_UTILIZATION,
  description: 'Share of time each logical CPU spent in each mode since the last collection',
  unit: UNIT_RATIO,
};

/**
 * `system.cpu.time` per logical CPU and mode, and `system.cpu.utilization`: the share of each
 * mode in the time since the previous collection (since boot on the first one).
 */
export class CpuCollector implements MetricsCollector {
  readonly name = 'cpu';
  private previous = new Map<number, CpuTimes>();

  constructor(private readonly files: HostFiles) {}

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    const cpus = parseCpuTimes(await this.files.readProc('stat'), TICKS_PER_SECOND);
    const time: Observation[] = [];
    const utilization: Observation[] = [];
    const next = new Map<number, CpuTimes>();
    for (const now of cpus) {
      const before = this.previous.get(now.cpu);
      let elapsed = 0;
      for (const mode of CPU_MODES) elapsed += now[mode] - (before?.[mode] ?? 0);
      for (const mode of CPU_MODES) {
        const attributes = { [ATTR_CPU_MODE]: mode, [ATTR_CPU_LOGICAL_NUMBER]: now.cpu };
        time.push({ attributes, value: now[mode] });
        if (elapsed > 0) {
          const value = (now[mode] - (before?.[mode] ?? 0)) / elapsed;
          utilization.push({ attributes, value });
        }
      }
      next.set(now.cpu, now);
    }
    this.previous = next;
    return withPoints([cycle.counter(CPU_TIME, time), cycle.gauge(CPU_UTILIZATION, utilization)]);
  }
}
