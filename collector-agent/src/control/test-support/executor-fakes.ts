import type { ControlCommand } from '@cybercorp/protocol';
import { CommandExecutor } from '../command-executor.js';
import { ProcessController } from '../process-controller.js';
import type { ProcessSample, ProcessTable } from '../processes.js';
import { SafetyPolicy } from '../safety-policy.js';
import { WindowControlError, type WindowController } from '../windows.js';

/** Fakes shared by the command executor's tests: a process table and kernel, and windows. */
export const NOW = 1_800_000_000_000;
export const ids = {
  a: '0192f6e4-7b1c-7cc0-8a3e-5d1f2a3b4c01',
  b: '0192f6e4-7b1c-7cc0-8a3e-5d1f2a3b4c02',
  c: '0192f6e4-7b1c-7cc0-8a3e-5d1f2a3b4c03',
};

export function sample(pid: number, ppid: number, name = 'worker'): ProcessSample {
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

export function setup(
  options: {
    windows?: WindowController;
    windowsEnabled?: boolean;
    controlEnabled?: boolean;
    settlePausesMs?: number[];
  } = {},
) {
  let clock = NOW;
  const processes = [sample(1, 0, 'init'), sample(50, 1, 'agent'), sample(77, 1)];
  const table: ProcessTable = {
    list: async () => processes,
    get: async (pid) => processes.find((p) => p.pid === pid),
  };
  const signals: Array<[number, string]> = [];
  const exited = new Set<number>();
  /** Pids whose state signals do not change (e.g. asleep in the kernel, state D). */
  const unmoved = new Set<number>();
  const controller = new ProcessController((pid, signal) => {
    if (exited.has(pid)) throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    signals.push([pid, signal]);
    // The kernel's part, done at once: stop and continue; SIGTERM ends a process that runs.
    const target = processes.find((p) => p.pid === pid);
    if (!target || unmoved.has(pid)) return;
    if (signal === 'SIGSTOP') target.state = 'T';
    if (signal === 'SIGCONT') target.state = 'S';
    if ((signal === 'SIGTERM' && target.state !== 'T') || signal === 'SIGKILL') {
      processes.splice(processes.indexOf(target), 1);
    }
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
    processActions: { settlePausesMs: options.settlePausesMs ?? [0, 0] },
  });
  return {
    executor,
    signals,
    exited,
    unmoved,
    processes,
    advance: (ms: number) => (clock += ms),
  };
}

export const signal = (
  commandId: string,
  pid: number,
  deadline = NOW + 5000,
  fields: Partial<Extract<ControlCommand, { type: 'process.signal' }>> = {},
): ControlCommand => ({
  type: 'process.signal',
  commandId,
  deadline,
  pid,
  action: 'suspend',
  ...fields,
});

export function fakeWindows(
  availability: { available: true } | { available: false; reason: string },
  acted: string[] = [],
  owned: Array<{ id: string; pid: number | null }> = [{ id: '0x1', pid: 77 }],
): WindowController {
  const windows = owned.map(({ id, pid }) => ({
    id,
    title: 'xterm',
    pid,
    bounds: { x: 0, y: 0, width: 10, height: 10 },
    active: id === '0x1',
    minimized: false,
    maximized: false,
  }));
  return {
    availability: async () => availability,
    list: async () => windows,
    act: async (id, action) => {
      if (!windows.some((w) => w.id === id)) {
        throw new WindowControlError('no_such_window', `no window ${id}`);
      }
      acted.push(`${id}:${action}`);
    },
    onChange: () => () => {},
    close: async () => {},
  };
}
