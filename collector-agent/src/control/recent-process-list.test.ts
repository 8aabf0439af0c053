import { describe, expect, it } from 'vitest';
import type { ProcessSample, ProcessTable } from './processes.js';
import { RecentProcessList } from './recent-process-list.js';

function sample(pid: number): ProcessSample {
  return {
    pid,
    ppid: 1,
    name: 'worker',
    user: 'alice',
    state: 'S',
    cpuPercent: 0,
    memoryBytes: 0,
    command: 'worker',
    startedAt: null,
    cpuSeconds: 0,
    kernelThread: false,
    uid: 1000,
  };
}

/** A table whose every scan returns the next pid, so each scan is recognisable. */
function countingTable(failFirst = false) {
  const scans = { count: 0 };
  const table: ProcessTable = {
    list: async () => {
      scans.count++;
      if (failFirst && scans.count === 1) throw new Error('EMFILE');
      return [sample(100 + scans.count)];
    },
    get: async () => undefined,
  };
  return { table, scans };
}

describe('RecentProcessList', () => {
  it('answers from one scan until it is maxAge old, then scans again', async () => {
    let now = 1_000;
    const { table, scans } = countingTable();
    const recent = new RecentProcessList(table, 250, () => now);
    expect((await recent.list())[0]?.pid).toBe(101);
    now += 249;
    expect((await recent.list())[0]?.pid).toBe(101);
    now += 1;
    expect((await recent.list())[0]?.pid).toBe(102);
    expect(scans.count).toBe(2);
  });

  it('lets concurrent calls share the scan in flight', async () => {
    const { table, scans } = countingTable();
    const recent = new RecentProcessList(table, 250, () => 5);
    const lists = await Promise.all([recent.list(), recent.list(), recent.list()]);
    expect(lists.map((l) => l[0]?.pid)).toEqual([101, 101, 101]);
    expect(scans.count).toBe(1);
  });

  it('never serves a failed scan again', async () => {
    const { table, scans } = countingTable(true);
    const recent = new RecentProcessList(table, 250, () => 5);
    await expect(recent.list()).rejects.toThrow('EMFILE');
    expect((await recent.list())[0]?.pid).toBe(102);
    expect(scans.count).toBe(2);
  });

  it('scans on every call with maxAge 0', async () => {
    const { table, scans } = countingTable();
    const recent = new RecentProcessList(table, 0, () => 5);
    await recent.list();
    await recent.list();
    expect(scans.count).toBe(2);
  });
});
