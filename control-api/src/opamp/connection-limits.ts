/** Seconds a client refused for a full instance is asked to wait before it tries again. */
export const CONNECTIONS_FULL_RETRY_AFTER_SECONDS = 30;
/** Handshakes finish within moments, so a client refused for too many of them may retry soon. */
export const HANDSHAKES_FULL_RETRY_AFTER_SECONDS = 5;

/**
 * One admitted WebSocket connection's place under the caps: it counts as a handshake until
 * `established`, then as a connection, until `release` (both idempotent).
 */
export interface ConnectionLease {
  established(): void;
  release(): void;
}

export type Admission =
  | { admitted: true; lease: ConnectionLease }
  | { admitted: false; reason: 'connections' | 'handshakes'; retryAfterSeconds: number };

/**
 * The caps on OpAMP WebSockets of this instance: connected agents (`OPAMP_MAX_CONNECTIONS`) and
 * handshakes in progress (`OPAMP_MAX_PENDING_UPGRADES`, an upgrade waiting for its token check
 * or for `ws`). A place is reserved at admission, before any await, so concurrent upgrades cannot
 * all pass a check made against the same count.
 */
export class ConnectionLimits {
  private pending = 0;
  private open = 0;

  constructor(private readonly limits: { maxConnections: number; maxPendingUpgrades: number }) {}

  admit(): Admission {
    if (this.pending >= this.limits.maxPendingUpgrades) {
      return {
        admitted: false,
        reason: 'handshakes',
        retryAfterSeconds: HANDSHAKES_FULL_RETRY_AFTER_SECONDS,
      };
    }
    if (this.pending + this.open >= this.limits.maxConnections) {
      return {
        admitted: false,
        reason: 'connections',
        retryAfterSeconds: CONNECTIONS_FULL_RETRY_AFTER_SECONDS,
      };
    }
    this.pending++;
    let state: 'pending' | 'open' | 'released' = 'pending';
    return {
      admitted: true,
      lease: {
        established: () => {
          if (state !== 'pending') return;
          state = 'open';
          this.pending--;
          this.open++;
        },
        release: () => {
          if (state === 'pending') this.pending--;
          else if (state === 'open') this.open--;
          state = 'released';
        },
      },
    };
  }

  get counts(): { pending: number; open: number } {
    return { pending: this.pending, open: this.open };
  }
}
