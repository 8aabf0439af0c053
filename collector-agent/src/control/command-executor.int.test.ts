import { spawn, type ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessAction } from '@cybercorp/protocol';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { exitOf, requireBinary, waitFor } from '../../../e2e/support/processes.js';
import { parseStat } from '../proc/pid-stat.js';
import { parseCgroupPaths } from '../proc/pid-cgroup.js';
import { procCgroups } from './cgroups.linux.js';
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

const suspend = (pid: number) => act(pid, 'suspend');

const act = (pid: number, action: ProcessAction, startedAt?: string) => ({
  type: 'process.signal' as const,
  commandId: randomUUID(),
  deadline: Date.now() + 10_000,
  pid,
  action,
  ...(startedAt === undefined ? {} : { startedAt }),
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

describe('control plane, pids and cgroups protected on the real process table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cybercorp-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Spawns a child owned by this test and waits until the kernel shows it asleep. */
  async function spawnAsleep(
    command: string,
    args: string[],
  ): Promise<ChildProcess & { pid: number }> {
    const child = spawn(command, args, { stdio: 'ignore' });
    if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
    children.push(child);
    const pid = child.pid;
    await waitFor(`${command} (pid ${pid}) to sleep`, async () =>
      kernelState(pid) === 'S' ? true : undefined,
    );
    return child as ChildProcess & { pid: number };
  }

  it('refuses a process named postgres (a sleep linked under that name), and leaves it running', async () => {
    const postgres = join(dir, 'postgres');
    symlinkSync(realpathSync(requireBinary('sleep', 'Debian package coreutils')), postgres);
    const child = await spawnAsleep(postgres, ['300']);
    expect(readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim()).toBe('postgres');

    const { executor, attempts } = realExecutor();
    expect(await executor.execute(suspend(child.pid))).toMatchObject({
      ok: false,
      error: {
        code: 'protected_process',
        message: expect.stringContaining('control-plane.database'),
      },
    });
    expect(attempts).toEqual([]);
    expect(kernelState(child.pid)).toBe('S');
  });

  it('refuses node running a script at the control API bin path', async () => {
    const bin = join(dir, 'control-api/dist/bin.js');
    mkdirSync(join(dir, 'control-api/dist'), { recursive: true });
    writeFileSync(bin, 'setInterval(() => {}, 2 ** 30);\n');
    const child = await spawnAsleep(process.execPath, [bin]);

    const { executor, attempts } = realExecutor();
    expect(await executor.execute(act(child.pid, 'terminate'))).toMatchObject({
      ok: false,
      error: { code: 'protected_process', message: expect.stringContaining('control-plane.api') },
    });
    expect(attempts).toEqual([]);
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
  });

  it('refuses a configured pid', async () => {
    const child = await spawnAsleep('sleep', ['300']);
    const { executor, attempts } = realExecutor({ protectedPids: [child.pid] });
    expect(await executor.execute(suspend(child.pid))).toMatchObject({
      ok: false,
      error: { code: 'protected_process', message: expect.stringContaining('protected.pids') },
    });
    expect(attempts).toEqual([]);
    expect(kernelState(child.pid)).toBe('S');
  });

  it("refuses a process in a protected cgroup: the test's own, which its child inherits", async () => {
    const own = parseCgroupPaths(readFileSync('/proc/self/cgroup', 'utf8'));
    const cgroup = own.filter((path) => path !== '').sort((a, b) => b.length - a.length)[0];
    if (cgroup === undefined) {
      throw new Error(
        `this test runs in the root cgroup only (/proc/self/cgroup: ${own.join(', ')}); ` +
          'it needs a process in a named cgroup (systemd or a container runtime makes one)',
      );
    }
    const child = await spawnAsleep('sleep', ['300']);
    expect(await procCgroups()(child.pid)).toEqual(own);

    const guarded = realExecutor({ protectedCgroups: [cgroup] });
    expect(await guarded.executor.execute(suspend(child.pid))).toMatchObject({
      ok: false,
      error: { code: 'protected_process', message: expect.stringContaining(cgroup) },
    });
    expect(guarded.attempts).toEqual([]);
    expect(kernelState(child.pid)).toBe('S');

    const elsewhere = realExecutor({ protectedCgroups: [`${cgroup}/not-this-one`] });
    expect(await elsewhere.executor.execute(suspend(child.pid))).toMatchObject({ ok: true });
  });
});

describe('process actions on a real spawned process', () => {
  async function spawnSleep(): Promise<ChildProcess & { pid: number }> {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    if (child.pid === undefined) throw new Error('could not spawn sleep');
    children.push(child);
    const pid = child.pid;
    await waitFor(`sleep (pid ${pid}) to sleep`, async () =>
      kernelState(pid) === 'S' ? true : undefined,
    );
    return child as ChildProcess & { pid: number };
  }

  it('suspend then terminate: the stopped process gets SIGTERM and SIGCONT, and exits', async () => {
    const child = await spawnSleep();
    const exit = exitOf(child);
    const { executor, attempts } = realExecutor();

    expect(await executor.execute(suspend(child.pid))).toMatchObject({
      ok: true,
      data: { signals: ['SIGSTOP'], state: 'stopped' },
    });
    expect(kernelState(child.pid)).toBe('T');

    expect(await executor.execute(act(child.pid, 'terminate'))).toMatchObject({
      ok: true,
      data: { signals: ['SIGTERM', 'SIGCONT'] },
    });
    expect(await exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(attempts).toEqual([
      [child.pid, 'SIGSTOP'],
      [child.pid, 'SIGTERM'],
      [child.pid, 'SIGCONT'],
    ]);
  });

  it('resume reports the process running again, as /proc shows it', async () => {
    const child = await spawnSleep();
    const { executor } = realExecutor();
    await executor.execute(suspend(child.pid));
    expect(await executor.execute(act(child.pid, 'resume'))).toMatchObject({
      ok: true,
      data: { signals: ['SIGCONT'], state: 'running' },
    });
    expect(kernelState(child.pid)).not.toMatch(/[Tt]/);
  });

  it('a stale startedAt is refused with process_changed and the process is untouched', async () => {
    const child = await spawnSleep();
    const { executor, attempts } = realExecutor();
    const listed = (await new LinuxProcessTable().list()).find((p) => p.pid === child.pid);
    const startedAt = listed?.startedAt;
    if (!startedAt) throw new Error(`no start time listed for pid ${child.pid}`);
    // The process that had this pid before: started a second earlier.
    const stale = new Date(Date.parse(startedAt) - 1000).toISOString();

    expect(await executor.execute(act(child.pid, 'kill', stale))).toMatchObject({
      ok: false,
      error: { code: 'process_changed' },
    });
    expect(attempts).toEqual([]);
    expect(kernelState(child.pid)).toBe('S');
    expect(child.exitCode).toBeNull();

    // The start time from the list identifies it: the action goes through.
    expect(await executor.execute(act(child.pid, 'suspend', startedAt))).toMatchObject({
      ok: true,
      data: { state: 'stopped' },
    });
  });
});
