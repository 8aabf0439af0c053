import { describe, expect, it } from 'vitest';
import { ApiError } from '../infra/problem.js';
import type { AccessClaims } from './access-tokens.js';
import { TokenValidity, type TokenStateSource } from './token-validity.js';

const ADA: AccessClaims = {
  userId: 'u-ada',
  username: 'ada',
  role: 'operator',
  sessionId: 's-1',
  tokenVersion: 2,
};

type State = { tokenVersion: number; disabled: boolean } | null;

/** A database stand-in: user states and revoked sessions, counting the reads. */
class FakeSource implements TokenStateSource {
  revoked: { sessionId: string; revokedAt: Date }[] = [];
  reads = 0;
  sessionReads: Date[] = [];
  failing = false;
  /** When set, user reads wait for it. */
  gate: Promise<void> | undefined;

  constructor(readonly users: Record<string, State>) {}

  async tokenStateOf(userId: string): Promise<State> {
    this.reads++;
    const state = this.users[userId] ?? null;
    await this.gate;
    if (this.failing) throw new Error('Connection terminated unexpectedly');
    return state;
  }

  async sessionsRevokedSince(since: Date) {
    this.sessionReads.push(since);
    if (this.failing) throw new Error('Connection terminated unexpectedly');
    return this.revoked.filter((r) => r.revokedAt >= since);
  }
}

const fakeSource = (users: Record<string, State>) => new FakeSource(users);

function fakeClock(start = 1_800_000_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).code).toBe('unauthorized');
  return (error as ApiError).message;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TokenValidity', () => {
  it('accepts a current token from memory after one read, and refuses stale versions, disabled and deleted users', async () => {
    const source = fakeSource({ 'u-ada': { tokenVersion: 2, disabled: false } });
    const validity = new TokenValidity(source, fakeClock(), 960);
    await validity.assertCurrent(ADA);
    await validity.assertCurrent(ADA);
    expect(source.reads).toBe(1);
    expect(await refusal(validity.assertCurrent({ ...ADA, tokenVersion: 1 }))).toMatch(/changed/);

    source.users['u-ada'] = { tokenVersion: 2, disabled: true };
    await validity.assertCurrent(ADA); // not told yet: still from memory
    validity.userChanged('u-ada');
    expect(await refusal(validity.assertCurrent(ADA))).toMatch(/disabled/);
    source.users['u-ada'] = null;
    validity.userChanged('u-ada');
    expect(await refusal(validity.assertCurrent(ADA))).toMatch(/no longer exists/);
    expect(await refusal(validity.assertCurrent({ ...ADA, userId: 'u-nobody' }))).toMatch(
      /no longer exists/,
    );
  });

  it('does not remember a read that was in flight when the user changed', async () => {
    const source = fakeSource({ 'u-ada': { tokenVersion: 2, disabled: false } });
    const validity = new TokenValidity(source, fakeClock(), 960);
    let open!: () => void;
    source.gate = new Promise<void>((resolve) => (open = resolve));
    const concurrent = validity.assertCurrent(ADA); // reads the state from before the change
    await settle();
    source.users['u-ada'] = { tokenVersion: 3, disabled: false };
    validity.userChanged('u-ada');
    const after = validity.assertCurrent(ADA); // a new read, not the one in flight
    open();
    source.gate = undefined;
    await concurrent;
    expect(await refusal(after)).toMatch(/changed/);
    expect(await refusal(validity.assertCurrent(ADA))).toMatch(/changed/);
    expect(source.reads).toBe(2);
  });

  it('re-reads a remembered user in the background, and keeps the state while the database is away', async () => {
    const clock = fakeClock();
    const source = fakeSource({ 'u-ada': { tokenVersion: 2, disabled: false } });
    const validity = new TokenValidity(source, clock, 960);
    await validity.assertCurrent(ADA);
    clock.t += 10_000;
    source.failing = true;
    await validity.assertCurrent(ADA);
    await settle();
    await validity.assertCurrent(ADA);
    await settle();
    expect(source.reads).toBeGreaterThanOrEqual(2);

    // A change whose invalidation was lost is seen once the background read succeeds.
    source.failing = false;
    source.users['u-ada'] = { tokenVersion: 3, disabled: false };
    clock.t += 10_000;
    await validity.assertCurrent(ADA);
    await settle();
    expect(await refusal(validity.assertCurrent(ADA))).toMatch(/changed/);
  });

  it('answers a user it never read with the database error while the database is away', async () => {
    const source = fakeSource({ 'u-ada': { tokenVersion: 2, disabled: false } });
    source.failing = true;
    const validity = new TokenValidity(source, fakeClock(), 960);
    await expect(validity.assertCurrent(ADA)).rejects.toThrow(/Connection terminated/);
  });

  it('refuses the tokens of an ended session until they would have expired', async () => {
    const clock = fakeClock();
    const source = fakeSource({ 'u-ada': { tokenVersion: 2, disabled: false } });
    const validity = new TokenValidity(source, clock, 960);
    validity.sessionEnded('s-1');
    expect(await refusal(validity.assertCurrent(ADA))).toMatch(/session/);
    await validity.assertCurrent({ ...ADA, sessionId: 's-2' });
    clock.t += 959_000;
    expect(await refusal(validity.assertCurrent(ADA))).toMatch(/session/);
    clock.t += 1_000;
    await validity.assertCurrent(ADA);
  });

  it('reads the sessions ended within a token lifetime at start, then the new ones as it goes', async () => {
    const clock = fakeClock();
    const source = fakeSource({ 'u-ada': { tokenVersion: 2, disabled: false } });
    source.revoked.push({ sessionId: 's-1', revokedAt: new Date(clock.t - 100_000) });
    source.revoked.push({ sessionId: 's-old', revokedAt: new Date(clock.t - 2_000_000) });
    const validity = new TokenValidity(source, clock, 960);
    await validity.start();
    expect(source.sessionReads).toEqual([new Date(clock.t - 960_000)]);
    expect(await refusal(validity.assertCurrent(ADA))).toMatch(/session/);
    await validity.assertCurrent({ ...ADA, sessionId: 's-old' });

    // Revoked by another instance whose message never arrived: read back within seconds.
    source.revoked.push({ sessionId: 's-2', revokedAt: new Date(clock.t + 1_000) });
    clock.t += 10_000;
    await validity.assertCurrent({ ...ADA, sessionId: 's-3' });
    await settle();
    expect(await refusal(validity.assertCurrent({ ...ADA, sessionId: 's-2' }))).toMatch(/session/);
    expect(source.sessionReads.at(-1)).toEqual(new Date(clock.t - 10_000 - 60_000));

    // After missed messages, the whole lifetime is read again.
    validity.forgetAll();
    await validity.assertCurrent({ ...ADA, sessionId: 's-3' });
    await settle();
    expect(source.sessionReads.at(-1)).toEqual(new Date(clock.t - 960_000));
  });
});
