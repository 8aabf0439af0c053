/** Where the telemetry pipeline reports outages and collection problems. */
export interface TelemetryLogger {
  info(message: string): void;
  warn(message: string): void;
}

export const consoleTelemetryLogger: TelemetryLogger = {
  info: (message) => console.info(`[metrics] ${message}`),
  warn: (message) => console.warn(`[metrics] ${message}`),
};

/**
 * Logs each distinct collection error once: a cause that persists (an unreadable mount, a
 * missing /proc file) would otherwise repeat every export cycle. Bounded, so errors with
 * ever-changing text cannot grow memory.
 */
export class DistinctErrorLog {
  private readonly seen = new Set<string>();

  constructor(
    private readonly logger: TelemetryLogger,
    private readonly maxDistinct = 100,
  ) {}

  report(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.seen.has(message) || this.seen.size >= this.maxDistinct) return;
    this.seen.add(message);
    this.logger.warn(`collection error (logged once): ${message}`);
  }
}
