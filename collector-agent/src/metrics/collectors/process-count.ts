import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from '../collector.js';
import type { MetricCycle, Observation } from '../metric-data.js';
import type { ProcessSnapshot } from '../process-snapshot.js';
import {
  ATTR_PROCESS_STATUS,
  METRIC_SYSTEM_PROCESS_COUNT,
  PROCESS_STATUSES,
  UNIT_PROCESSES,
  type ProcessStatus,
} from '../semconv.js';

const PROCESS_COUNT = {
  name: METRIC_SYSTEM_PROCESS_COUNT,
  description: 'Processes in each status',
  unit: UNIT_PROCESSES,
};

/** Maps the one-letter state of /proc/<pid>/stat (see ps(1)) to the semconv status values. */
export function processStatusOf(state: string): ProcessStatus {
  switch (state) {
    case 'R':
      return 'running';
    case 'S':
    case 'D':
    case 'I':
    case 'W':
    case 'P':
    case 'K':
      return 'sleeping';
    case 'T':
    case 't':
      return 'stopped';
    case 'Z':
    case 'X':
    case 'x':
      return 'defunct';
    default:
      return 'unknown';
  }
}

/** `system.process.count` by status, from the agent's shared process table. */
export class ProcessCountCollector implements MetricsCollector {
  readonly name = 'process-count';

  constructor(private readonly snapshot: ProcessSnapshot) {}

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    const counts = new Map<ProcessStatus, number>(PROCESS_STATUSES.map((s) => [s, 0]));
    for (const sample of await this.snapshot.read()) {
      const status = processStatusOf(sample.state);
      counts.set(status, (counts.get(status) ?? 0) + 1);
    }
    const observations: Observation[] = [];
    for (const [status, value] of counts) {
      // "unknown" only appears when a kernel invents a new state letter.
      if (status === 'unknown' && value === 0) continue;
      observations.push({ attributes: { [ATTR_PROCESS_STATUS]: status }, value });
    }
    return [cycle.upDownCounter(PROCESS_COUNT, observations)];
  }
}
