import { describe, expect, it } from 'vitest';
import type { ProcessSample } from '../control/processes.js';
import { ProcessSnapshot } from './process-snapshot.js';
import { FakeProcessTable, processSample } from './test-support/fixtures.js';

describe('ProcessSnapshot', () => {
  it('shares one table read between readers of the same cycle and reads again next cycle', async () => {
    let now = 0;
    const table = new FakeProcessTable([processSample({ pid: 1 })]);
    const snapshot = new ProcessSnapshot(table, 1000, () => now);
    const [a, b] = await Promise.all([snapshot.read(), snapshot.read()]);
    expect(a).toBe(b);
    expect(table.reads).toBe(1);
    now = 10_000;
    await snapshot.read();
    expect(table.reads).toBe(2);
  });

  it('passes a failed read on and does not reuse it', async () => {
    let fail = true;
    const table = {
      list: async (): Promise<ProcessSample[]> => {
        if (fail) throw new Error('EACCES /proc');
        return [];
      },
      get: async () => undefined,
    };
    const snapshot = new ProcessSnapshot(table, 1000, () => 0);
    await expect(snapshot.read()).rejects.toThrow('EACCES /proc');
    fail = false;
    await expect(snapshot.read()).resolves.toEqual([]);
  });
});
