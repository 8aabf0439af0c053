import type { Clock } from '../infra/clock.js';

export interface LockoutPolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
};

/**
 * Counts failed logins per username in this process. After `maxFailures` failures inside
 * `windowMs` the username is locked for `lockMs`, even for the right password. With several
 * instances each keeps its own count, which still bounds guessing per instance.
 */
export class LoginLockout {
  private readonly failures = new Map<string, { times: number[]; lockedUntil: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: LockoutPolicy = DEFAULT_LOCKOUT,
    private readonly maxTracked = 10_000,
  ) {}

  lockedFor(username: string): number {
    const entry = this.failures.get(username);
    if (!entry) return 0;
    return Math.max(0, entry.lockedUntil - this.clock.now());
  }

  recordFailure(username: string): void {
    const now = this.clock.now();
    const entry = this.failures.get(username) ?? { times: [], lockedUntil: 0 };
    entry.times = entry.times.filter((t) => now - t < this.policy.windowMs);
    entry.times.push(now);
    if (entry.times.length >= this.policy.maxFailures) {
      entry.lockedUntil = now + this.policy.lockMs;
      entry.times = [];
    }
    if (!this.failures.has(username) && this.failures.size >= this.maxTracked) this.prune(now);
    this.failures.set(username, entry);
  }

  recordSuccess(username: string): void {
    this.failures.delete(username);
  }

  private prune(now: number): void {
    for (const [name, entry] of this.failures) {
      if (entry.lockedUntil <= now && entry.times.every((t) => now - t >= this.policy.windowMs)) {
        this.failures.delete(name);
      }
    }
  }
}
