import { describe, expect, it } from 'vitest';
import { LoginLockout } from './lockout.js';

const policy = { maxFailures: 3, windowMs: 60_000, lockMs: 120_000 };

describe('LoginLockout', () => {
  it('locks after max failures inside the window and unlocks after lockMs', () => {
    const clock = { t: 0, now: () => clock.t };
    const lockout = new LoginLockout(clock, policy);
    lockout.recordFailure('ada');
    lockout.recordFailure('ada');
    expect(lockout.lockedFor('ada')).toBe(0);
    lockout.recordFailure('ada');
    expect(lockout.lockedFor('ada')).toBe(120_000);
    expect(lockout.lockedFor('bob')).toBe(0);
    clock.t += 120_000;
    expect(lockout.lockedFor('ada')).toBe(0);
  });

  it('forgets failures older than the window and on success', () => {
    const clock = { t: 0, now: () => clock.t };
    const lockout = new LoginLockout(clock, policy);
    lockout.recordFailure('ada');
    lockout.recordFailure('ada');
    clock.t += 60_000;
    lockout.recordFailure('ada');
    expect(lockout.lockedFor('ada')).toBe(0);
    lockout.recordFailure('ada');
    lockout.recordSuccess('ada');
    lockout.recordFailure('ada');
    expect(lockout.lockedFor('ada')).toBe(0);
  });
});
