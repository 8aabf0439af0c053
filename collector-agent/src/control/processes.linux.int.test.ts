import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSleeper } from '../../../e2e/support/processes.js';
import { OpenStatFiles } from '../proc/open-stat-files.js';
import { parseStat } from '../proc/pid-stat.js';
import { ProcessController } from './process-controller.js';
import { LinuxProcessTable } from './processes.linux.js';

const children: ChildProcess[] = [];

function spawnSleep(): ChildProcess & { pid: number } {
  const child = spawnSleeper();
  children.push(child);
  return child;
}

/** The kernel's own view, independent of the code under test. */
function kernelState(pid: number): string {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).state;
}

/** Whether this test process has /proc/<pid>/stat open, by the kernel's list of our descriptors. */
function holdsStatFileOf(pid: number): boolean {
  return readdirSync('/proc/self/fd').some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/stat`;
    } catch {
      return false; // the descriptor that listed the directory, closed by now
    }
  });
}

async function eventually<T>(read: () => T, expected: T, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (read() !== expected) {
    if (Date.now() > until)
      throw new Error(`expected ${String(expected)}, still ${String(read())}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

describe('LinuxProcessTable and ProcessController on the real /proc', () => {
  it('reads a spawned sleep: state, user, command line, parent, start time', async () => {
    const child = spawnSleep();
    await eventually(() => kernelState(child.pid), 'S');
    const table = new LinuxProcessTable();
    const sample = await table.get(child.pid);
    expect(sample).toMatchObject({
      pid: child.pid,
      ppid: process.pid,
      name: 'sleep',
      state: 'S',
      user: userInfo().username,
      uid: userInfo().uid,
      command: 'sleep 300',
      kernelThread: false,
    });
    expect(sample?.memoryBytes).toBeGreaterThan(0);
    const startedAt = Date.parse(sample?.startedAt ?? '');
    expect(Math.abs(startedAt - Date.now())).toBeLessThan(60_000);

    expect(await table.userOf(child.pid)).toBe(userInfo().username);

    const all = await table.list();
    expect(all.find((p) => p.pid === child.pid)?.command).toBe('sleep 300');
    expect(all.find((p) => p.pid === process.pid)?.name).toMatch(/node|vitest/);
    expect(all.some((p) => p.kernelThread)).toBe(true);
  });

  it('suspends, resumes and terminates the process for real', async () => {
    const child = spawnSleep();
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    await eventually(() => kernelState(child.pid), 'S');
    const controller = new ProcessController();

    expect(controller.signal(child.pid, 'suspend')).toBe('SIGSTOP');
    await eventually(() => kernelState(child.pid), 'T');
    expect((await new LinuxProcessTable().get(child.pid))?.state).toBe('T');

    controller.signal(child.pid, 'resume');
    await eventually(() => kernelState(child.pid), 'S');

    controller.signal(child.pid, 'terminate');
    expect(await exited).toBe('SIGTERM');
  });

  it('reports a pid that no longer exists as no_such_process', async () => {
    const child = spawnSleep();
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(await new LinuxProcessTable().get(child.pid)).toBeUndefined();
    expect(() => new ProcessController().signal(child.pid, 'kill')).toThrow(
      expect.objectContaining({ code: 'no_such_process' }),
    );
  });

  it('reads a process through its held stat file as its state changes, and lets go once it exits', async () => {
    const child = spawnSleep();
    await eventually(() => kernelState(child.pid), 'S');
    const files = new OpenStatFiles('/proc');
    const buffer = Buffer.alloc(4096);
    try {
      expect(parseStat(files.read(child.pid, buffer) ?? '').state).toBe('S');
      expect(files.openCount).toBe(1);
      child.kill('SIGSTOP');
      await eventually(() => kernelState(child.pid), 'T');
      expect(parseStat(files.read(child.pid, buffer) ?? '').state).toBe('T');
      expect(files.openCount).toBe(1);

      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      expect(files.read(child.pid, buffer)).toBeUndefined();
      expect(files.openCount).toBe(0);
    } finally {
      files.closeAll();
    }
  });

  it('closes the stat files of exited processes after a scan', async () => {
    const child = spawnSleep();
    await eventually(() => kernelState(child.pid), 'S');
    const table = new LinuxProcessTable();
    try {
      expect((await table.listSummaries()).some((p) => p.pid === child.pid)).toBe(true);
      expect(holdsStatFileOf(child.pid)).toBe(true);
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      expect((await table.listSummaries()).some((p) => p.pid === child.pid)).toBe(false);
      expect(holdsStatFileOf(child.pid)).toBe(false);
    } finally {
      table.close();
    }
  });
});
