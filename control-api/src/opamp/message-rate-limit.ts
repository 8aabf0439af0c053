export const RATE_WINDOW_MS = 60_000;

export type RateVerdict =
  | { kind: 'allowed' }
  /** The first message over the limit in this window: tell the agent to slow down. */
  | { kind: 'warn'; retryAfterMs: number }
  /** Over the limit, already warned: drop the message. */
  | { kind: 'drop' }
  /** Still sending well past the warning: give up on the connection. */
  | { kind: 'close' };

/**
 * `OPAMP_MESSAGES_PER_MINUTE` for one connection, in fixed one-minute windows (as
 * rate-limiter-flexible counts). The first message over the limit earns a warning (an OpAMP
 * UNAVAILABLE with the time left in the window); messages in flight when it was sent are
 * dropped, and a connection that sends `grace` more after it is closed.
 */
export class MessageRateLimit {
  private windowStart: number | undefined;
  private count = 0;
  private readonly grace: number;

  constructor(
    private readonly perMinute: number,
    grace?: number,
  ) {
    this.grace = grace ?? Math.max(10, Math.ceil(perMinute / 10));
  }

  take(nowMs: number): RateVerdict {
    if (this.windowStart === undefined || nowMs - this.windowStart >= RATE_WINDOW_MS) {
      this.windowStart = nowMs;
      this.count = 0;
    }
    this.count++;
    const over = this.count - this.perMinute;
    if (over <= 0) return { kind: 'allowed' };
    if (over === 1) {
      return { kind: 'warn', retryAfterMs: this.windowStart + RATE_WINDOW_MS - nowMs };
    }
    return over > this.grace + 1 ? { kind: 'close' } : { kind: 'drop' };
  }
}
