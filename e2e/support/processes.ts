/**
 * Helpers for tests that run real server binaries (Prometheus, Alertmanager, the Collector,
 * redis-server, ...): find a binary or fail naming it, pick a free loopback port, start a
 * child process and keep the tail of its output, wait for it to be ready with a bounded retry
 * loop, and stop exactly that child by its pid.
 *
 * Tests only ever signal pids they spawned through `startProcess`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Thrown when a binary a test needs is not installed; the message names it and how to get it. */
export class MissingBinaryError extends Error {
  constructor(
    readonly binary: string,
    hint: string,
  ) {
    super(`required binary '${binary}' not found on PATH (${hint})`);
    this.name = 'MissingBinaryError';
  }
}

/** Absolute path of `name` on PATH; throws MissingBinaryError (never skips) when absent. */
export function requireBinary(name: string, hint: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  throw new MissingBinaryError(name, hint);
}

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a loopback listener'));
      });
    });
  });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (no shell) and returns its exit code and output. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw error; // spawn failure or timeout, not an exit code
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

export interface StartOptions {
  /** Shown in errors and logs; defaults to the command. */
  name?: string;
  cwd?: string;
  /** Environment of the child; defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** How much of the combined stdout/stderr to keep for error messages (bytes). */
  keepOutputBytes?: number;
}

/** A child process started by a test. */
export class StartedProcess {
  readonly name: string;
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly keepBytes: number;
  private tail = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;

  constructor(command: string, args: readonly string[], options: StartOptions = {}) {
    this.name = options.name ?? command;
    this.keepBytes = options.keepOutputBytes ?? 64 * 1024;
    this.child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) {
      throw new Error(`could not start ${this.name} (${command})`);
    }
    this.pid = this.child.pid;
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-this.keepBytes);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
  }

  /** The last bytes the process wrote to stdout and stderr. */
  output(): string {
    return this.tail;
  }

  /** Undefined while running; exit code/signal once it has exited. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  /** Throws (with the process's output) if it has already exited. */
  assertRunning(): void {
    if (this.exitInfo) {
      throw new Error(
        `${this.name} (pid ${this.pid}) exited early (code ${this.exitInfo.code}, signal ${this.exitInfo.signal}):\n${this.tail}`,
      );
    }
  }

  /** Sends `signal` to this child, by its pid, while it runs (SIGSTOP, SIGKILL …). */
  signal(signal: NodeJS.Signals): void {
    this.assertRunning();
    process.kill(this.pid, signal);
  }

  /** Resolves with the exit code/signal once this child has exited. */
  async exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await this.exitPromise;
    return this.exitInfo!;
  }

  /** SIGTERM this child (by its pid), then SIGKILL it if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitInfo) return;
    process.kill(this.pid, 'SIGTERM');
    const timedOut = await Promise.race([
      this.exitPromise.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref()),
    ]);
    if (timedOut && !this.exitInfo) {
      process.kill(this.pid, 'SIGKILL');
      await this.exitPromise;
    }
  }
}

/**
 * Runs `ready` for a just-started process; if it throws, stops the process (so a failed start
 * leaves nothing running) and rethrows.
 */
export async function stopIfNotReady(
  process: StartedProcess,
  ready: () => Promise<void>,
): Promise<void> {
  try {
    await ready();
  } catch (error) {
    await process.stop();
    throw error;
  }
}

/** Starts `command` with `args`; stop it with `stop()`. */
export function startProcess(
  command: string,
  args: readonly string[],
  options: StartOptions = {},
): StartedProcess {
  return new StartedProcess(command, args, options);
}

export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 200 ms). */
  intervalMs?: number;
  /** Fail at once, with its output, if this process exits while waiting. */
  process?: StartedProcess;
}

/**
 * Calls `probe` until it returns a value other than undefined, at most until the timeout;
 * the error names `what` and the last probe failure.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    options.process?.assertRunning();
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + intervalMs > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      const output = options.process
        ? `\n--- ${options.process.name} output ---\n${options.process.output()}`
        : '';
      throw new Error(
        `timed out after ${timeoutMs} ms (${attempt + 1} attempts) waiting for ${what}${reason}${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until `url` answers with a 2xx status. */
export async function waitForHttp(url: string, options: WaitOptions = {}): Promise<void> {
  await waitFor(
    `HTTP 2xx from ${url}`,
    async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.ok ? true : undefined;
    },
    options,
  );
}

/** Waits until a TCP connection to host:port succeeds. */
export async function waitForPort(
  port: number,
  host = '127.0.0.1',
  options: WaitOptions = {},
): Promise<void> {
  await waitFor(
    `TCP ${host}:${port} to accept connections`,
    () =>
      new Promise<true>((resolve, reject) => {
        const socket = connect({ port, host });
        socket.setTimeout(2_000);
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('timeout', () => {
          socket.destroy();
          reject(new Error('connect timed out'));
        });
        socket.once('error', reject);
      }),
    options,
  );
}

export type ExitStatus = { code: number | null; signal: NodeJS.Signals | null };

/** Resolves with how `child` ended (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Resident set size of a process the test started, from /proc (kB → bytes). */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB$/m);
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]) * 1024;
}

/** A `sleep 300` owned by the test: the only kind of process process-control tests act on. */
export function spawnSleeper(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('could not spawn sleep');
  return child as ChildProcess & { pid: number };
}
