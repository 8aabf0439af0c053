import { LogThrottle } from '@cybercorp/logging';
import type { ExportOutcomes } from './buffering-exporter.js';
import type { BufferEvents, BufferStats, DropReason } from './export-buffer.js';
import type { TelemetryLogger } from './telemetry-logger.js';

const DROP_HEADLINES: Record<DropReason, string> = {
  buffer_full: 'metrics export buffer full (CYBERCORP_BUFFER_MAX_BYTES)',
  rejected: 'the Collector refused a metrics batch for good; dropped, not retried',
  spool_error: 'metrics export spool',
};
const DROP_WORDS: Record<DropReason, string> = {
  buffer_full: 'dropped',
  rejected: 'refused',
  spool_error: 'lost',
};

/** At most one line per drop reason this often; the line says how many it stands for. */
export const DROP_LOG_INTERVAL_MS = 60_000;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/**
 * The metrics export's log: a Collector outage once when it starts and once when exports are
 * answered again, instead of once per cycle or not at all; and the offline buffer's lines
 * (intervals dropped, a spool found at start), throttled per cause. BufferingExporter tells it
 * each send's outcome; a batch the Collector refused for good is no outage: it answered.
 */
export class OutageLog implements ExportOutcomes, BufferEvents {
  private failingSinceMillis: number | undefined;
  private failedExports = 0;
  private readonly dropLog = new LogThrottle(DROP_LOG_INTERVAL_MS);

  constructor(
    private readonly logger: TelemetryLogger,
    private readonly target: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the last export failed. */
  get failing(): boolean {
    return this.failingSinceMillis !== undefined;
  }

  unanswered(error: string, bufferStats: () => BufferStats): void {
    this.failedExports += 1;
    if (this.failingSinceMillis !== undefined) return;
    this.failingSinceMillis = this.now();
    const stats = bufferStats();
    this.logger.warn(
      `metrics export to ${this.target} failing (${error}); ` +
        (stats.limitBytes > 0
          ? `the agent keeps running and buffers up to ${formatBytes(stats.limitBytes)} of metrics to ` +
            'send, oldest first, when the Collector answers again'
          : 'the agent keeps running and drops metrics until the Collector answers again'),
    );
  }

  answered(bufferStats: () => BufferStats): void {
    if (this.failingSinceMillis === undefined) return;
    const stats = bufferStats();
    const seconds = Math.round((this.now() - this.failingSinceMillis) / 1000);
    this.logger.info(
      `metrics export to ${this.target} recovered after ${this.failedExports} failed ` +
        `export(s) over ${seconds} s; ${stats.intervals} buffered interval(s) to send, oldest ` +
        `first; ${stats.dropped.buffer_full} interval(s) dropped as the buffer filled`,
    );
    this.failingSinceMillis = undefined;
    this.failedExports = 0;
  }

  dropped(reason: DropReason, detail: string, stats: BufferStats): void {
    const take = this.dropLog.take(reason, this.now());
    if (!take) return;
    const more = take.suppressed > 0 ? ` (${take.suppressed} more since the last such line)` : '';
    this.logger.warn(
      `${DROP_HEADLINES[reason]}: ${detail}${more}; ${stats.dropped[reason]} interval(s) ` +
        `${DROP_WORDS[reason]} so far; holding ${stats.intervals} interval(s), ` +
        `${formatBytes(stats.bytes)} of ${formatBytes(stats.limitBytes)}`,
    );
  }

  restored(stats: BufferStats): void {
    this.logger.info(
      `found ${stats.intervals} buffered metrics interval(s) (${formatBytes(stats.bytes)}) from an earlier ` +
        'run in the spool; sending them oldest first once the Collector answers',
    );
  }

  closing(stats: BufferStats, kept: boolean): void {
    const held = `${stats.intervals} buffered metrics interval(s) (${formatBytes(stats.bytes)})`;
    if (kept) this.logger.info(`stopping with ${held} kept in the spool for the next start`);
    else
      this.logger.warn(
        `stopping with ${held} in memory, lost now ` +
          '(CYBERCORP_BUFFER_SPOOL=file keeps them across restarts)',
      );
  }
}
