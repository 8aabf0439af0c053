import { describe, expect, it } from 'vitest';
import { ProcessOwners } from './process-owners.js';
import { ProcessSnapshot } from './process-snapshot.js';
import { FakeSummaryProcessTable, processSample } from './testing.js';

describe('ProcessOwners', () => {
  function setup() {
    let now = 0;
    const table = new FakeSummaryProcessTable([
      processSample({ pid: 10, user: 'alice' }),
      processSample({ pid: 11, user: 'bob' }),
    ]);
    const owners = new ProcessOwners({
      snapshot: new ProcessSnapshot(table, 0),
      maxAgeMillis: 60_000,
      now: () => now,
    });
    return { table, owners, advance: (millis: number) => (now += millis) };
  }

  it('reads each owner once and reuses it in the next cycles', async () => {
    const { table, owners, advance } = setup();
    const rows = await table.listSummaries();
    expect(await owners.ownersOf(rows)).toEqual(
      new Map([
        [10, 'alice'],
        [11, 'bob'],
      ]),
    );
    advance(10_000);
    expect(await owners.ownersOf(rows)).toEqual(
      new Map([
        [10, 'alice'],
        [11, 'bob'],
      ]),
    );
    expect(table.gets).toEqual([10, 11]);
  });

  it('reads an owner again once it is older than the maximum age, and follows a change', async () => {
    const { table, owners, advance } = setup();
    const rows = await table.listSummaries();
    await owners.ownersOf(rows);
    table.rows = [
      processSample({ pid: 10, user: 'daemon' }),
      processSample({ pid: 11, user: 'bob' }),
    ];
    advance(60_000);
    expect((await owners.ownersOf(rows)).get(10)).toBe('daemon');
    expect(table.gets).toEqual([10, 11, 10, 11]);
  });

  it('treats a reused pid with another start time as a new process', async () => {
    const { table, owners } = setup();
    await owners.ownersOf(await table.listSummaries());
    table.rows = [processSample({ pid: 10, user: 'eve', startedAt: '2026-11-25T11:00:00.000Z' })];
    expect(await owners.ownersOf(await table.listSummaries())).toEqual(new Map([[10, 'eve']]));
    expect(table.gets).toEqual([10, 11, 10]);
  });

  it('leaves out a process that exited and remembers only the latest selection', async () => {
    const { table, owners } = setup();
    const rows = await table.listSummaries();
    table.rows = table.rows.filter((row) => row.pid !== 11);
    expect(await owners.ownersOf(rows)).toEqual(new Map([[10, 'alice']]));
    expect(owners.rememberedCount).toBe(1);
    await owners.ownersOf([]);
    expect(owners.rememberedCount).toBe(0);
  });
});
