import { describe, expect, it } from 'vitest';
import { CommandExecutor } from './command-executor.js';
import { ProcessController } from './process-controller.js';
import type { ProcessTable } from './processes.js';
import { SafetyPolicy } from './safety-policy.js';
import { ids, NOW, sample, setup, signal } from './test-support/executor-fakes.js';

describe('CommandExecutor: processes', () => {
  it('lists processes in the wire shape without the metrics-only fields', async () => {
    const { executor } = setup();
    const result = await executor.execute({
      type: 'process.list',
      commandId: ids.a,
      deadline: NOW + 1,
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.data).toHaveLength(3);
    expect((result.data as object[])[2]).toEqual({
      pid: 77,
      ppid: 1,
      name: 'worker',
      user: 'alice',
      state: 'S',
      cpuPercent: 1.5,
      memoryBytes: 4096,
      command: 'worker',
      startedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('answers lists from a recent scan, but signals only a process that is still there', async () => {
    let clock = NOW;
    const processes = [sample(1, 0, 'init'), sample(50, 1, 'agent'), sample(77, 1)];
    let scans = 0;
    const table: ProcessTable = {
      list: async () => {
        scans++;
        return [...processes];
      },
      get: async (pid) => processes.find((p) => p.pid === pid),
    };
    const signals: number[] = [];
    const executor = new CommandExecutor({
      table,
      policy: new SafetyPolicy(
        table,
        () => ({ controlEnabled: true, protectedNames: [], protectedUsers: [] }),
        50,
      ),
      processes: new ProcessController((pid) => signals.push(pid)),
      windowsEnabled: () => false,
      now: () => clock,
      processListMaxAgeMs: 250,
    });
    const list = (commandId: string) =>
      executor.execute({ type: 'process.list', commandId, deadline: clock + 5000 });
    const first = await list(ids.a);
    processes.pop(); // pid 77 exits
    const second = await list(ids.b);
    expect(scans).toBe(1);
    expect(second.ok && second.data).toEqual(first.ok && first.data);
    expect(await executor.execute(signal(ids.c, 77, clock + 5000))).toMatchObject({
      ok: false,
      error: { code: 'no_such_process' },
    });
    expect(signals).toEqual([]);
    clock += 250;
    const third = await list('0192f6e4-7b1c-7cc0-8a3e-5d1f2a3b4c04');
    expect(scans).toBe(2);
    expect(third.ok && (third.data as { pid: number }[]).map((p) => p.pid)).toEqual([1, 50]);
  });

  it('runs a repeated commandId once and returns the remembered result', async () => {
    const { executor, signals } = setup();
    const first = await executor.execute(signal(ids.a, 77));
    const again = await executor.execute(signal(ids.a, 77));
    expect(first).toEqual({
      type: 'result',
      commandId: ids.a,
      ok: true,
      data: { signals: ['SIGSTOP'], state: 'stopped' },
    });
    expect(again).toEqual(first);
    expect(signals).toEqual([[77, 'SIGSTOP']]);
    expect(executor.executed).toBe(1);
  });

  it('answers concurrent duplicates from the same in-flight run', async () => {
    const { executor, signals } = setup();
    const [one, two] = await Promise.all([
      executor.execute(signal(ids.a, 77)),
      executor.execute(signal(ids.a, 77)),
    ]);
    expect(one).toEqual(two);
    expect(signals).toHaveLength(1);
  });

  it('refuses a command past its deadline and remembers the refusal after the deadline', async () => {
    const { executor, signals, advance } = setup();
    advance(6000);
    const late = await executor.execute(signal(ids.b, 77));
    expect(late).toMatchObject({ ok: false, error: { code: 'deadline_exceeded' } });
    expect(signals).toEqual([]);
    advance(60_000);
    expect(await executor.execute(signal(ids.b, 77))).toEqual(late);
  });

  it('still answers a retried commandId from memory after its deadline has passed', async () => {
    const { executor, signals, advance } = setup();
    const first = await executor.execute(signal(ids.a, 77));
    advance(3_600_000);
    expect(await executor.execute(signal(ids.a, 77))).toEqual(first);
    expect(signals).toHaveLength(1);
  });

  it('maps a missing pid and a policy refusal to stable codes without signalling', async () => {
    const { executor, signals } = setup();
    expect(await executor.execute(signal(ids.a, 999))).toMatchObject({
      ok: false,
      error: { code: 'no_such_process' },
    });
    expect(await executor.execute(signal(ids.b, 1))).toMatchObject({
      ok: false,
      error: { code: 'protected_process' },
    });
    expect(await executor.execute(signal(ids.c, 50))).toMatchObject({
      ok: false,
      error: { code: 'protected_process', message: expect.stringContaining('self') },
    });
    expect(signals).toEqual([]);
  });

  it('reports a process that exits between lookup and signal as no_such_process', async () => {
    const { executor, exited, signals } = setup();
    exited.add(77); // still in the table, but kill() finds no such process
    expect(await executor.execute(signal(ids.a, 77))).toMatchObject({
      ok: false,
      error: { code: 'no_such_process' },
    });
    expect(signals).toEqual([]);
  });

  it('refuses actions with control_disabled when control is off', async () => {
    const { executor, signals } = setup({ controlEnabled: false });
    expect(await executor.execute(signal(ids.a, 77))).toMatchObject({
      ok: false,
      error: { code: 'control_disabled' },
    });
    expect(signals).toEqual([]);
  });

  it('refuses with process_changed when the pid now belongs to a process with another start time', async () => {
    const { executor, signals } = setup();
    expect(
      await executor.execute(
        signal(ids.a, 77, NOW + 5000, { startedAt: '2025-12-31T23:59:59.000Z' }),
      ),
    ).toMatchObject({
      ok: false,
      error: {
        code: 'process_changed',
        message: expect.stringContaining('2026-01-01T00:00:00.000Z'),
      },
    });
    expect(signals).toEqual([]);
  });

  it('acts when the start time matches, compared as an instant rather than as text', async () => {
    const { executor, signals } = setup();
    for (const [id, startedAt] of [
      [ids.a, '2026-01-01T00:00:00.000Z'],
      [ids.b, '2026-01-01T01:00:00+01:00'],
    ] as const) {
      expect(await executor.execute(signal(id, 77, NOW + 5000, { startedAt }))).toMatchObject({
        ok: true,
      });
    }
    expect(signals).toEqual([
      [77, 'SIGSTOP'],
      [77, 'SIGSTOP'],
    ]);
  });

  it('refuses a start time it cannot confirm, where the table has none for the pid', async () => {
    const { executor, signals, processes } = setup();
    processes[2]!.startedAt = null;
    expect(
      await executor.execute(
        signal(ids.a, 77, NOW + 5000, { startedAt: '2026-01-01T00:00:00.000Z' }),
      ),
    ).toMatchObject({ ok: false, error: { code: 'process_changed' } });
    expect(signals).toEqual([]);
  });

  it('checks the policy too when the start time matches', async () => {
    const { executor, signals } = setup();
    expect(
      await executor.execute(signal(ids.a, 50, NOW + 5000, { startedAt: '2026-01-01T00:00:00Z' })),
    ).toMatchObject({ ok: false, error: { code: 'protected_process' } });
    expect(signals).toEqual([]);
  });

  it('terminates a stopped process with SIGTERM and then SIGCONT, a running one with SIGTERM only', async () => {
    const { executor, signals, processes } = setup();
    processes.push(sample(78, 1));
    expect(await executor.execute(signal(ids.a, 77))).toMatchObject({
      ok: true,
      data: { state: 'stopped' },
    });
    expect(await executor.execute(signal(ids.b, 77, NOW + 5000, { action: 'terminate' }))).toEqual({
      type: 'result',
      commandId: ids.b,
      ok: true,
      data: { signals: ['SIGTERM', 'SIGCONT'] },
    });
    expect(await executor.execute(signal(ids.c, 78, NOW + 5000, { action: 'terminate' }))).toEqual({
      type: 'result',
      commandId: ids.c,
      ok: true,
      data: { signals: ['SIGTERM'] },
    });
    expect(signals).toEqual([
      [77, 'SIGSTOP'],
      [77, 'SIGTERM'],
      [77, 'SIGCONT'],
      [78, 'SIGTERM'],
    ]);
  });

  it('reports the state suspend and resume left the process in', async () => {
    const { executor } = setup();
    expect(await executor.execute(signal(ids.a, 77))).toMatchObject({
      data: { signals: ['SIGSTOP'], state: 'stopped' },
    });
    expect(
      await executor.execute(signal(ids.b, 77, NOW + 5000, { action: 'resume' })),
    ).toMatchObject({ data: { signals: ['SIGCONT'], state: 'running' } });
  });

  it('reports the state it saw when the process did not stop within its looks', async () => {
    const { executor, unmoved } = setup({ settlePausesMs: [0, 1, 1] });
    unmoved.add(77);
    expect(await executor.execute(signal(ids.a, 77))).toMatchObject({
      ok: true,
      data: { signals: ['SIGSTOP'], state: 'running' },
    });
  });
});
