import { describe, expect, it } from 'vitest';
import { SequenceTracker } from './sequence-tracker.js';

describe('SequenceTracker', () => {
  it('accepts the first number of an agent and each next one', () => {
    const tracker = new SequenceTracker();
    expect([5n, 6n, 7n].map((n) => tracker.follows('a', n))).toEqual([true, true, true]);
  });

  it('reports a gap, a repeat and a restart from zero, then follows the new number', () => {
    const tracker = new SequenceTracker();
    tracker.follows('a', 1n);
    expect(tracker.follows('a', 3n)).toBe(false);
    expect(tracker.follows('a', 4n)).toBe(true);
    expect(tracker.follows('a', 4n)).toBe(false);
    expect(tracker.follows('a', 0n)).toBe(false);
    expect(tracker.follows('a', 1n)).toBe(true);
  });

  it('keeps agents apart and starts afresh after forget', () => {
    const tracker = new SequenceTracker();
    tracker.follows('a', 10n);
    expect(tracker.follows('b', 0n)).toBe(true);
    tracker.forget('a');
    expect(tracker.follows('a', 0n)).toBe(true);
  });
});
