import { encodeControlData, type ControlCommand } from '@cybercorp/protocol';
import { describe, expect, it } from 'vitest';
import { BoundedMemo } from './bounded-memo.js';
import { CommandExecutor } from './command-executor.js';
import { ProcessController } from './process-controller.js';
import type { ProcessSample, ProcessTable } from './processes.js';
import { SafetyPolicy } from './safety-policy.js';
import { WindowControlError, type WindowController } from './windows.js';

const NOW = 1_800_000_000_000;
const ids = {
  a: '0192f6e4-7b1c-7cc0-8a3e-5d1f2a3b4c01',
  b: '0192f6e4-7b1c-7cc0-8a3e-5d1f2a3b4c02',
  c: '0192f6e4-7b1c-7cc0-8a3e-5d1f2a3b4c03',
};

function sample(pid: number, ppid: number, name = 'worker'): ProcessSample {
  return {
    pid,
    ppid,
    name,
    user: 'alice',
    state: 'S',
    cpuPercent: 1.5,
    memoryBytes: 4096,
    command: name,
    startedAt: '2026-01-01T00:00:00.000Z',
    cpuSeconds: 3,
    kernelThread: false,
    uid: 1000,
  };
}

function setup(
  options: { windows?: WindowController; windowsEnabled?: boolean; controlEnabled?: boolean } = {},
) {
  let clock = NOW;
  const processes = [sample(1, 0, 'init'), sample(50, 1, 'agent'), sample(77, 1)];
  const table: ProcessTable = {
    list: async () => processes,
    get: async (pid) => processes.find((p) => p.pid === pid),
  };
  const signals: Array<[number, string]> = [];
  const exited = new Set<number>();
  const controller = new ProcessController((pid, signal) => {
    if (exited.has(pid)) throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    signals.push([pid, signal]);
  });
  const policy = new SafetyPolicy(
    table,
    () => ({
      controlEnabled: options.controlEnabled ?? true,
      protectedNames: [],
      protectedUsers: [],
    }),
    50,
  );
  const executor = new CommandExecutor({
    table,
    policy,
    processes: controller,
    windows: options.windows,
    windowsEnabled: () => options.windowsEnabled ?? true,
    now: () => clock,
    memory: 3,
  });
  return { executor, signals, exited, advance: (ms: number) => (clock += ms) };
}

const signal = (commandId: string, pid: number, deadline = NOW + 5000): ControlCommand => ({
  type: 'process.signal',
  commandId,
  deadline,
  pid,
  action: 'suspend',
});

describe('CommandExecutor', () => {
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
    expect(first).toEqual({ type: 'result', commandId: ids.a, ok: true, data: {} });
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

  it('answers window commands with capability_missing without a usable controller', async () => {
    const none = setup();
    expect(
      await none.executor.execute({ type: 'window.list', commandId: ids.a, deadline: NOW + 1 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'capability_missing' },
    });
    const unavailable = setup({ windows: fakeWindows({ available: false, reason: 'no DISPLAY' }) });
    expect(
      await unavailable.executor.execute({
        type: 'window.list',
        commandId: ids.a,
        deadline: NOW + 1,
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'capability_missing', message: expect.stringContaining('no DISPLAY') },
    });
    const disabled = setup({ windows: fakeWindows({ available: true }), windowsEnabled: false });
    expect(
      await disabled.executor.execute({ type: 'window.list', commandId: ids.a, deadline: NOW + 1 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'control_disabled' },
    });
  });

  it('routes window commands and maps WindowControlError codes', async () => {
    const acted: string[] = [];
    const windows = fakeWindows({ available: true }, acted);
    const { executor } = setup({ windows });
    const listed = await executor.execute({
      type: 'window.list',
      commandId: ids.a,
      deadline: NOW + 1,
    });
    expect(listed).toMatchObject({ ok: true, data: [{ id: '0x1' }] });
    expect(
      await executor.execute({
        type: 'window.action',
        commandId: ids.b,
        deadline: NOW + 1,
        windowId: '0x1',
        action: 'focus',
      }),
    ).toMatchObject({ ok: true, data: {} });
    expect(
      await executor.execute({
        type: 'window.action',
        commandId: ids.c,
        deadline: NOW + 1,
        windowId: '0x2',
        action: 'close',
      }),
    ).toMatchObject({ ok: false, error: { code: 'no_such_window' } });
    expect(acted).toEqual(['0x1:focus']);
  });

  it('answers undecodable data with validation_failed when a commandId is readable', async () => {
    const { executor } = setup();
    const bad = new TextEncoder().encode(
      JSON.stringify({ type: 'process.signal', commandId: ids.a, deadline: NOW, pid: -3 }),
    );
    expect(await executor.handle(bad)).toMatchObject({
      ok: false,
      commandId: ids.a,
      error: { code: 'validation_failed' },
    });
    expect(await executor.handle(new TextEncoder().encode('{"type":"nope"}'))).toBeUndefined();
    expect(await executor.handle(new Uint8Array([0xff]))).toBeUndefined();
    expect(await executor.handle(encodeControlData(signal(ids.b, 77)))).toMatchObject({ ok: true });
  });
});

describe('BoundedMemo', () => {
  it('forgets the least recently used entry beyond capacity', () => {
    const memo = new BoundedMemo<string, number>(2);
    memo.set('a', 1);
    memo.set('b', 2);
    expect(memo.get('a')).toBe(1); // a is now the most recent
    memo.set('c', 3);
    expect(memo.get('b')).toBeUndefined();
    expect(memo.get('a')).toBe(1);
    expect(memo.size).toBe(2);
    expect(() => new BoundedMemo(0)).toThrow(RangeError);
  });
});

function fakeWindows(
  availability: { available: true } | { available: false; reason: string },
  acted: string[] = [],
): WindowController {
  return {
    availability: async () => availability,
    list: async () => [
      {
        id: '0x1',
        title: 'xterm',
        pid: 77,
        bounds: { x: 0, y: 0, width: 10, height: 10 },
        active: true,
        minimized: false,
        maximized: false,
      },
    ],
    act: async (id, action) => {
      if (id !== '0x1') throw new WindowControlError('no_such_window', `no window ${id}`);
      acted.push(`${id}:${action}`);
    },
    onChange: () => () => {},
    close: async () => {},
  };
}
