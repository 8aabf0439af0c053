import type { Meter } from '@opentelemetry/api';
import type { MetricsCollector } from '../collector.js';
import type { HostFiles } from '../host-files.js';
import { parseUptime } from '../parse/uptime.js';
import { METRIC_SYSTEM_UPTIME, UNIT_SECONDS } from '../semconv.js';

/** `system.uptime` from /proc/uptime. */
export class UptimeCollector implements MetricsCollector {
  readonly name = 'uptime';

  constructor(private readonly files: HostFiles) {}

  register(meter: Meter): void {
    const uptime = meter.createObservableGauge(METRIC_SYSTEM_UPTIME, {
      description: 'Seconds since the host booted',
      unit: UNIT_SECONDS,
    });
    uptime.addCallback(async (result) => {
      result.observe(parseUptime(await this.files.readProc('uptime')));
    });
  }
}
