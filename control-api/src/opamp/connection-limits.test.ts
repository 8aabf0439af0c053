import { describe, expect, it } from 'vitest';
import { ConnectionLimits } from './connection-limits.js';

describe('ConnectionLimits', () => {
  it('counts handshakes and connections together against the connection cap', () => {
    const limits = new ConnectionLimits({ maxConnections: 2, maxPendingUpgrades: 10 });
    const a = limits.admit();
    const b = limits.admit();
    if (!a.admitted || !b.admitted) throw new Error('expected both admitted');
    a.lease.established();
    expect(limits.counts).toEqual({ pending: 1, open: 1 });
    expect(limits.admit()).toEqual({
      admitted: false,
      reason: 'connections',
      retryAfterSeconds: 30,
    });
    b.lease.release(); // a handshake that failed
    expect(limits.counts).toEqual({ pending: 0, open: 1 });
    expect(limits.admit().admitted).toBe(true);
  });

  it('refuses when too many handshakes are in progress, whatever the connection count', () => {
    const limits = new ConnectionLimits({ maxConnections: 100, maxPendingUpgrades: 1 });
    const a = limits.admit();
    expect(limits.admit()).toEqual({ admitted: false, reason: 'handshakes', retryAfterSeconds: 5 });
    if (!a.admitted) throw new Error('expected admitted');
    a.lease.established();
    expect(limits.admit().admitted).toBe(true);
  });

  it('ignores established after release, and a second release', () => {
    const limits = new ConnectionLimits({ maxConnections: 1, maxPendingUpgrades: 1 });
    const a = limits.admit();
    if (!a.admitted) throw new Error('expected admitted');
    a.lease.release();
    a.lease.established();
    a.lease.release();
    expect(limits.counts).toEqual({ pending: 0, open: 0 });
  });
});
