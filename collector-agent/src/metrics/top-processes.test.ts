import { describe, expect, it } from 'vitest';
import { processSample } from './test-support/fixtures.js';
import { selectTopProcesses } from './top-processes.js';

const rated = (pid: number, cpuUtilization: number, memoryBytes: number) => ({
  sample: processSample({ pid, memoryBytes }),
  cpuUtilization,
});

describe('selectTopProcesses', () => {
  const processes = [
    rated(1, 0.5, 10),
    rated(2, 0.1, 900),
    rated(3, 0.4, 20),
    rated(4, 0, 800),
    rated(5, 0.3, 5),
  ];

  it('unites the top N by CPU with the top N by memory, busiest first', () => {
    expect(selectTopProcesses(processes, 2, 4).map((p) => p.sample.pid)).toEqual([1, 3, 2, 4]);
  });

  it('counts a process in both rankings once', () => {
    const both = [rated(1, 0.9, 900), rated(2, 0.1, 10), rated(3, 0.2, 20)];
    expect(selectTopProcesses(both, 1, 2).map((p) => p.sample.pid)).toEqual([1]);
  });

  it('never exceeds the hard cap', () => {
    expect(selectTopProcesses(processes, 3, 4)).toHaveLength(4);
  });

  it('breaks ties by pid so the choice is stable', () => {
    const tied = [rated(9, 0, 1), rated(7, 0, 1), rated(8, 0, 1)];
    expect(selectTopProcesses(tied, 1, 2).map((p) => p.sample.pid)).toEqual([7]);
  });
});
