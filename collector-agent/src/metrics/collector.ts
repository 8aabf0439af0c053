import type { Meter } from '@opentelemetry/api';

/**
 * One group of host metrics. `register` creates the group's observable instruments on the
 * injected meter; the SDK calls their callbacks once per export cycle. A callback that cannot
 * read its source throws, so the reader reports a collection error instead of a silent gap.
 */
export interface MetricsCollector {
  readonly name: string;
  register(meter: Meter): void;
}
