import type { Meter } from '@opentelemetry/api';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import { parseLoadAverage } from '../parse/loadavg.js';
import {
  METRIC_SYSTEM_CPU_LOAD_AVERAGE_15M,
  METRIC_SYSTEM_CPU_LOAD_AVERAGE_1M,
  METRIC_SYSTEM_CPU_LOAD_AVERAGE_5M,
  UNIT_THREADS,
} from '../semconv.js';

/** `system.cpu.load_average.{1m,5m,15m}` from /proc/loadavg. */
export class LoadCollector implements MetricsCollector {
  readonly name = 'load';

  constructor(private readonly files: HostFiles) {}

  register(meter: Meter): void {
    const options = (window: string) => ({
      description: `Average number of runnable and uninterruptible threads over ${window}`,
      unit: UNIT_THREADS,
    });
    const one = meter.createObservableGauge(METRIC_SYSTEM_CPU_LOAD_AVERAGE_1M, options('1 minute'));
    const five = meter.createObservableGauge(
      METRIC_SYSTEM_CPU_LOAD_AVERAGE_5M,
      options('5 minutes'),
    );
    const fifteen = meter.createObservableGauge(
      METRIC_SYSTEM_CPU_LOAD_AVERAGE_15M,
      options('15 minutes'),
    );
    meter.addBatchObservableCallback(
      async (result) => {
        const load = parseLoadAverage(await this.files.readProc('loadavg'));
        result.observe(one, load.one);
        result.observe(five, load.five);
        result.observe(fifteen, load.fifteen);
      },
      [one, five, fifteen],
    );
  }
}
