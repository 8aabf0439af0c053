import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** The installed `cybercorp-agent`; needs a build (its bundle), as every *.int.test.ts here. */
const LAUNCHER = fileURLToPath(new URL('../bin/cybercorp-agent.js', import.meta.url));

async function shebangFlags(): Promise<string[]> {
  const firstLine = (await readFile(LAUNCHER, 'utf8')).split('\n', 1)[0] ?? '';
  expect(firstLine.startsWith('#!/usr/bin/env -S node ')).toBe(true);
  return firstLine.split(/\s+/).slice(3);
}

async function commandLine(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('bin/cybercorp-agent.js', () => {
  let stateDir: string;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'agent-launcher-'));
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    child = undefined;
    await rm(stateDir, { recursive: true, force: true });
  });

  let stderr = '';

  /** Starts a telemetry-only agent and resolves once its log shows `until` (by default: started). */
  async function start(
    command: string,
    args: string[],
    until = '"agent started"',
  ): Promise<ChildProcess> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CYBERCORP_AGENT_STATE_DIR: stateDir,
      // Nothing listens on the discard port: exports fail quietly; this test is about the process.
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    };
    const started = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    stderr = '';
    await new Promise<void>((resolve, reject) => {
      started.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes(until)) resolve();
      });
      started.once('exit', (code) => reject(new Error(`agent exited (${code}): ${stderr}`)));
    });
    return started;
  }

  it('runs the agent under the node flags of its first line and stops cleanly on SIGTERM', async () => {
    const flags = await shebangFlags();
    expect(flags).toEqual(expect.arrayContaining(['--no-opt', '--always-sparkplug']));
    const agent = await start(LAUNCHER, []);
    const argv = await commandLine(agent.pid as number);
    expect(argv.slice(1, 1 + flags.length)).toEqual(flags);
    agent.kill('SIGTERM');
    expect(await exited(agent)).toEqual({ code: 0, signal: null });
  });

  it('started as `node <launcher>`, runs itself once more with the flags and passes SIGTERM on', async () => {
    const flags = await shebangFlags();
    const parent = await start(process.execPath, [LAUNCHER]);
    const pid = parent.pid as number;
    const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim();
    expect(children).toMatch(/^\d+$/);
    const agentPid = Number(children);
    expect(await commandLine(agentPid)).toEqual([process.execPath, ...flags, LAUNCHER]);
    parent.kill('SIGTERM');
    expect(await exited(parent)).toEqual({ code: 0, signal: null });
    await expect(readFile(`/proc/${agentPid}/cmdline`, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('stops cleanly on a SIGTERM that arrives while the agent is still starting', async () => {
    // The first line an agent without a control URL logs comes from inside its startup.
    const agent = await start(LAUNCHER, [], 'running telemetry only');
    agent.kill('SIGTERM');
    expect(await exited(agent)).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('"shutting down"');
  });
});
