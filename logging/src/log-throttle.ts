/**
 * At most one log line per key (a connection, a cause) and interval, so that a flood of the same event
 * costs a counter increment each and a line now and then, never a line each.
 */
export class LogThrottle {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** undefined: stay quiet; otherwise log now, saying how many were left out since the last line. */
  take(key: string, nowMs: number): { suppressed: number } | undefined {
    const entry = this.last.get(key);
    if (entry && nowMs - entry.atMs < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    if (!entry && this.last.size >= this.maxKeys) this.prune(nowMs);
    this.last.set(key, { atMs: nowMs, suppressed: 0 });
    return { suppressed: entry?.suppressed ?? 0 };
  }

  forget(key: string): void {
    this.last.delete(key);
  }

  private prune(nowMs: number): void {
    for (const [key, entry] of this.last) {
      if (nowMs - entry.atMs >= this.intervalMs) this.last.delete(key);
    }
    // Still full of live keys: forgetting one only costs an extra line for it.
    if (this.last.size >= this.maxKeys) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
  }
}
