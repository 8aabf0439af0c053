import { describe, expect, it } from 'vitest';
import { BatchWriter } from './batch-writer.js';

/** A write that stays open until the test lets it finish, so batching is observable. */
function gatedWrites() {
  const batches: number[][] = [];
  const gates: Array<(error?: Error) => void> = [];
  const write = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push(items);
      gates.push((error) => (error ? reject(error) : resolve(items.map((n) => n * 10))));
    });
  const open = async (error?: Error) => {
    gates.shift()?.(error);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, write, open };
}

describe('BatchWriter', () => {
  it('writes a lone item at once and batches what arrives during a write', async () => {
    const { batches, write, open } = gatedWrites();
    const writer = new BatchWriter(write);
    const first = writer.add(1);
    expect(batches).toEqual([[1]]);
    const rest = [writer.add(2), writer.add(3), writer.add(4)];
    await open();
    expect(await first).toBe(10);
    expect(batches).toEqual([[1], [2, 3, 4]]);
    await open();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    await writer.idle();
  });

  it('with `alone`, writes a refused batch again item by item, so only the bad item fails', async () => {
    const statements: number[][] = [];
    const write = async (items: number[]) => {
      statements.push(items);
      if (items.includes(3)) throw new Error(items.length > 1 ? 'refused' : 'refused: 3');
      if (items.some((n) => n % 10 === 9)) throw new Error('database down');
      return items.map((n) => n * 10);
    };
    const writer = new BatchWriter(write, {
      alone: (error) => (error as Error).message.startsWith('refused'),
    });
    const first = writer.add(1);
    const burst = [writer.add(2), writer.add(3), writer.add(4)];
    expect(await first).toBe(10);
    const settled = await Promise.allSettled(burst);
    expect(settled.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)))).toEqual([
      20,
      'Error: refused: 3',
      40,
    ]);
    expect(statements).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
    // An error `alone` does not accept fails the whole batch, as without it.
    await writer.idle();
    const down = [writer.add(9), writer.add(19), writer.add(29)];
    expect((await Promise.allSettled(down)).map((r) => r.status)).toEqual([
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(statements.slice(5)).toEqual([[9], [19, 29]]);
  });

  it('fails a batch whose write does not answer one result per item', async () => {
    const writer = new BatchWriter(async () => [1]);
    await expect(Promise.all([writer.add(1), writer.add(2)])).resolves.toEqual([1, 1]);
    const short = new BatchWriter<number, number>(async (items) => items.slice(1));
    const lone = short.add(1);
    await expect(lone).rejects.toThrow('a batch of 1 got 0 results');
  });

  it('caps a batch at maxBatch', async () => {
    const { batches, write, open } = gatedWrites();
    const writer = new BatchWriter(write, { maxBatch: 2 });
    const added = [1, 2, 3, 4, 5].map((n) => writer.add(n));
    for (let i = 0; i < 3; i++) await open();
    await Promise.all(added);
    expect(batches).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('fails only the items of a failed batch, and keeps writing', async () => {
    const { batches, write, open } = gatedWrites();
    const writer = new BatchWriter(write);
    const first = expect(writer.add(1)).rejects.toThrow('database down');
    const second = writer.add(2);
    await open(new Error('database down'));
    await first;
    await open();
    await expect(second).resolves.toBe(20);
    expect(batches).toEqual([[1], [2]]);
  });

  it('tells when everything added so far is written', async () => {
    const { write, open } = gatedWrites();
    const writer = new BatchWriter(write);
    const added = writer.add(1);
    let idle = false;
    const waiting = writer.idle().then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    await open();
    await waiting;
    await added;
    expect(idle).toBe(true);
  });

  it('refuses a batch size that is not a positive integer', () => {
    expect(() => new BatchWriter(async () => [], { maxBatch: 0 })).toThrow(RangeError);
  });
});
