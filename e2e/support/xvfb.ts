/**
 * A private X display for tests and benchmarks: Xvfb on a free display number (unix socket
 * only, `-nolisten tcp`), optionally with openbox as the EWMH window manager, plus the X
 * clients a test opens on it. Every process is started here and stopped by its own pid.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { exitOf, waitFor } from './processes.js';
import { delimiter, join } from 'node:path';

const FIRST_DISPLAY = 90;
const LAST_DISPLAY = 160;
const START_TIMEOUT_MS = 15_000;

/** Fails, naming every missing program, unless all of them are on PATH. */
export async function requirePrograms(programs: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const program of programs) if (!(await onPath(program))) missing.push(program);
  if (missing.length > 0) {
    throw new Error(
      `missing programs: ${missing.join(', ')} (Debian packages: xvfb openbox xterm x11-utils wmctrl; run scripts/setup-deps)`,
    );
  }
}

async function onPath(program: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

export interface PrivateDisplayOptions {
  /** Start openbox on the display (default true). */
  windowManager?: boolean;
  /** Xvfb screen geometry (default 1280x800x24). */
  screen?: string;
}

export class PrivateDisplay {
  private readonly children = new Set<ChildProcess>();

  private constructor(
    /** `:N` */
    readonly display: string,
    readonly number: number,
    private readonly xvfb: ChildProcess,
    private readonly home: string,
  ) {
    this.children.add(xvfb);
  }

  /**
   * `-noreset`: without it Xvfb resets whenever its last client disconnects (our readiness
   * probe), and a client connecting during that reset (openbox) is dropped.
   */
  static async start(options: PrivateDisplayOptions = {}): Promise<PrivateDisplay> {
    await requirePrograms(
      options.windowManager === false ? ['Xvfb', 'xprop'] : ['Xvfb', 'openbox', 'xprop'],
    );
    const home = await mkdtemp(join(tmpdir(), 'cybercorp-xvfb-'));
    let lastError: unknown = null;
    for (let n = FIRST_DISPLAY; n <= LAST_DISPLAY; n++) {
      if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
      const xvfb = spawn(
        'Xvfb',
        [`:${n}`, '-nolisten', 'tcp', '-noreset', '-screen', '0', options.screen ?? '1280x800x24'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      xvfb.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      try {
        await waitUntil(
          async () => {
            if (xvfb.exitCode !== null || xvfb.signalCode !== null)
              throw new Error(`Xvfb :${n} exited: ${stderr.trim()}`);
            return (
              existsSync(`/tmp/.X11-unix/X${n}`) &&
              (await run('xprop', ['-display', `:${n}`, '-root', 'RESOURCE_MANAGER'])).ok
            );
          },
          START_TIMEOUT_MS,
          `Xvfb :${n} to accept connections`,
        );
      } catch (error) {
        lastError = error;
        await stopChild(xvfb);
        continue; // another process took this display number first
      }
      const display = new PrivateDisplay(`:${n}`, n, xvfb, home);
      if (options.windowManager !== false) {
        try {
          await display.startOpenbox();
        } catch (error) {
          await display.stop();
          throw error;
        }
      }
      return display;
    }
    await rm(home, { recursive: true, force: true });
    throw new Error(
      `no free X display between :${FIRST_DISPLAY} and :${LAST_DISPLAY}: ${String(lastError)}`,
    );
  }

  /** Environment for X clients on this display, with a private HOME so nothing leaks out. */
  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      DISPLAY: this.display,
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, 'config'),
      XDG_CACHE_HOME: join(this.home, 'cache'),
      XDG_DATA_HOME: join(this.home, 'data'),
    };
  }

  /** Starts an X client on this display; it is stopped by `stop()` unless it exited before. */
  spawn(command: string, args: readonly string[]): ChildProcess {
    const child = spawn(command, args, { env: this.env(), stdio: 'ignore' });
    this.children.add(child);
    child.once('exit', () => {
      if (child !== this.xvfb) this.children.delete(child);
    });
    return child;
  }

  /** An xterm whose title is `title`, running a long sleep rather than a shell. */
  spawnXterm(title: string, extraArgs: readonly string[] = []): ChildProcess {
    return this.spawn('xterm', ['-title', title, ...extraArgs, '-e', 'sleep', '3600']);
  }

  /** `xprop -display :N <args>`: read back what the X server holds, independently of our code. */
  async xprop(args: readonly string[]): Promise<string> {
    const result = await run('xprop', ['-display', this.display, ...args]);
    if (!result.ok) throw new Error(`xprop ${args.join(' ')} failed: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** Stops every process started on this display (clients first, Xvfb last), by pid. */
  async stop(): Promise<void> {
    const clients = [...this.children].filter((c) => c !== this.xvfb);
    await Promise.all(clients.map((child) => stopChild(child)));
    await stopChild(this.xvfb);
    this.children.clear();
    await rm(this.home, { recursive: true, force: true });
  }

  private async startOpenbox(): Promise<void> {
    this.spawn('openbox', ['--sm-disable']);
    await waitUntil(
      async () =>
        /window id # 0x/.test(
          (await run('xprop', ['-display', this.display, '-root', '_NET_SUPPORTING_WM_CHECK']))
            .stdout,
        ),
      START_TIMEOUT_MS,
      `openbox to manage ${this.display}`,
    );
  }
}

/** Polls `check` every 50 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  await waitFor(what, async () => ((await check()) ? true : undefined), {
    timeoutMs,
    intervalMs: 50,
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const done = exitOf(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await done;
  clearTimeout(timer);
}

function run(
  command: string,
  args: readonly string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ ok: !error, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}
