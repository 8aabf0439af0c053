import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseStat } from '../proc/pid-stat.js';
import { CommandExecutor } from './command-executor.js';
import { ProcessController } from './process-controller.js';
import { LinuxProcessTable } from './processes.linux.js';
import { SafetyPolicy, type SafetySettings } from './safety-policy.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

function kernelState(pid: number): string {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).state;
}

/** Real table, real policy, real signals; every kill() attempt is recorded before it happens. */
function realExecutor(settings: Partial<SafetySettings> = {}) {
  const attempts: Array<[number, NodeJS.Signals]> = [];
  const table = new LinuxProcessTable();
  const policy = new SafetyPolicy(table, () => ({
    controlEnabled: true,
    protectedNames: [],
    protectedUsers: [],
    ...settings,
  }));
  const controller = new ProcessController((pid, signal) => {
    attempts.push([pid, signal]);
    // Even a broken policy must not make this test signal a process it did not spawn.
    if (!children.some((child) => child.pid === pid)) {
      throw new Error(`the policy let through pid ${pid}, which this test did not spawn`);
    }
    process.kill(pid, signal);
  });
  const executor = new CommandExecutor({
    table,
    policy,
    processes: controller,
    windowsEnabled: () => false,
  });
  return { executor, attempts, policy };
}

const suspend = (pid: number) => ({
  type: 'process.signal' as const,
  commandId: randomUUID(),
  deadline: Date.now() + 10_000,
  pid,
  action: 'suspend' as const,
});

describe('safety policy on the real process table', () => {
  it('refuses pid 1, the agent itself and each of its ancestors without sending any signal', async () => {
    const { executor, attempts, policy } = realExecutor();
    const ancestors = [...(await policy.ancestors())];
    expect(ancestors).toContain(process.ppid);
    expect(ancestors).toContain(1);
    const before = new Map([1, process.pid, ...ancestors].map((pid) => [pid, kernelState(pid)]));

    for (const pid of [1, process.pid, ...ancestors]) {
      const result = await executor.execute(suspend(pid));
      expect(result, `pid ${pid}`).toMatchObject({
        ok: false,
        error: { code: 'protected_process' },
      });
    }
    expect(attempts).toEqual([]);
    for (const [pid, state] of before) {
      expect(kernelState(pid), `pid ${pid}`).not.toBe('T');
      expect(state).not.toBe('T');
    }
  });

  it('refuses a thread id of the agent itself: kill() on it would stop the whole agent', async () => {
    const { executor, attempts } = realExecutor();
    const threads = readdirSync('/proc/self/task')
      .map(Number)
      .filter((tid) => tid !== process.pid);
    if (threads.length === 0) throw new Error('expected Node to run helper threads');
    const result = await executor.execute(suspend(threads[0] as number));
    expect(result).toMatchObject({ ok: false, error: { code: 'no_such_process' } });
    expect(attempts).toEqual([]);
  });

  it('refuses a kernel thread', async () => {
    const { executor, attempts } = realExecutor();
    const kthread = (await new LinuxProcessTable().list()).find((p) => p.kernelThread && p.pid > 2);
    if (!kthread)
      throw new Error('no kernel thread visible in /proc: is /proc mounted with hidepid?');
    expect(await executor.execute(suspend(kthread.pid))).toMatchObject({
      ok: false,
      error: { code: 'protected_process', message: expect.stringContaining('kernel') },
    });
    expect(attempts).toEqual([]);
  });

  it('refuses a protected name and leaves the process running; signals an unprotected one', async () => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(child);
    const pid = child.pid as number;
    await new Promise((resolve) => setTimeout(resolve, 100));

    const guarded = realExecutor({ protectedNames: ['sleep'] });
    expect(await guarded.executor.execute(suspend(pid))).toMatchObject({
      ok: false,
      error: { code: 'protected_process', message: expect.stringContaining('protected.names') },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(kernelState(pid)).toBe('S');
    expect(guarded.attempts).toEqual([]);

    const open = realExecutor();
    expect(await open.executor.execute(suspend(pid))).toMatchObject({ ok: true });
    expect(open.attempts).toEqual([[pid, 'SIGSTOP']]);
  });
});
