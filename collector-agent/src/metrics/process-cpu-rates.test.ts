import { describe, expect, it } from 'vitest';
import { ProcessCpuRates } from './process-cpu-rates.js';
import { processSample } from './test-support/fixtures.js';

const START = Date.parse('2026-11-25T10:00:00.000Z');

describe('ProcessCpuRates', () => {
  it('uses the lifetime average first, then the delta since the previous cycle, as a share of all CPUs', () => {
    let now = START + 100_000;
    const rates = new ProcessCpuRates({ cpuCount: 2, maxRememberedPids: 10, now: () => now });
    // 50 CPU seconds in 100 s of life on 2 CPUs.
    expect(rates.update([processSample({ pid: 7, cpuSeconds: 50 })]).get(7)).toBeCloseTo(0.25);
    now += 10_000;
    // 10 more CPU seconds in 10 s: one CPU fully busy, half the host.
    expect(rates.update([processSample({ pid: 7, cpuSeconds: 60 })]).get(7)).toBeCloseTo(0.5);
  });

  it('treats a reused pid (other start time) as a new process, not a negative delta', () => {
    let now = START + 100_000;
    const rates = new ProcessCpuRates({ cpuCount: 1, maxRememberedPids: 10, now: () => now });
    rates.update([processSample({ pid: 7, cpuSeconds: 50 })]);
    now += 10_000;
    const reused = processSample({
      pid: 7,
      cpuSeconds: 1,
      startedAt: new Date(now - 2_000).toISOString(),
    });
    expect(rates.update([reused]).get(7)).toBeCloseTo(0.5);
  });

  it('forgets exited processes and never remembers more than the cap', () => {
    const rates = new ProcessCpuRates({
      cpuCount: 1,
      maxRememberedPids: 3,
      now: () => START + 1000,
    });
    rates.update([1, 2, 3, 4, 5].map((pid) => processSample({ pid, cpuSeconds: pid })));
    expect(rates.rememberedCount).toBe(3);
    rates.update([processSample({ pid: 9 })]);
    expect(rates.rememberedCount).toBe(1);
  });
});
