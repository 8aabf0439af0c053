import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import type { MetricCycle } from '../metric-data.js';
import { parseLoadAverage } from '../../proc/loadavg.js';
import {
  METRIC_SYSTEM_CPU_LOAD_AVERAGE_15M,
  METRIC_SYSTEM_CPU_LOAD_AVERAGE_1M,
  METRIC_SYSTEM_CPU_LOAD_AVERAGE_5M,
  UNIT_THREADS,
} from '../semconv.js';

function loadAverage(name: string, window: string) {
  return {
    name,
    description: `Average number of runnable and uninterruptible threads over ${window}`,
    unit: UNIT_THREADS,
  };
}
const LOAD_1M = loadAverage(METRIC_SYSTEM_CPU_LOAD_AVERAGE_1M, '1 minute');
const LOAD_5M = loadAverage(METRIC_SYSTEM_CPU_LOAD_AVERAGE_5M, '5 minutes');
const LOAD_15M = loadAverage(METRIC_SYSTEM_CPU_LOAD_AVERAGE_15M, '15 minutes');

/** `system.cpu.load_average.{1m,5m,15m}` from /proc/loadavg. */
export class LoadCollector implements MetricsCollector {
  readonly name = 'load';

  constructor(private readonly files: HostFiles) {}

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    const load = parseLoadAverage(await this.files.readProc('loadavg'));
    return [
      cycle.gauge(LOAD_1M, [{ attributes: {}, value: load.one }]),
      cycle.gauge(LOAD_5M, [{ attributes: {}, value: load.five }]),
      cycle.gauge(LOAD_15M, [{ attributes: {}, value: load.fifteen }]),
    ];
  }
}
