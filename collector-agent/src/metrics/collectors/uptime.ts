import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import type { MetricCycle } from '../metric-data.js';
import { parseUptime } from '../../proc/uptime.js';
import { METRIC_SYSTEM_UPTIME, UNIT_SECONDS } from '../semconv.js';

const UPTIME = {
  name: METRIC_SYSTEM_UPTIME,
  description: 'Seconds since the host booted',
  unit: UNIT_SECONDS,
};

/** `system.uptime` from /proc/uptime. */
export class UptimeCollector implements MetricsCollector {
  readonly name = 'uptime';

  constructor(private readonly files: HostFiles) {}

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    const uptime = parseUptime(await this.files.readProc('uptime'));
    return [cycle.gauge(UPTIME, [{ attributes: {}, value: uptime }])];
  }
}
