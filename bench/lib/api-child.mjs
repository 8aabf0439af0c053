// The control API of a bench in a child process of its own, so that its CPU is not the
// driver's: the bench script forks itself with `--api-child` and talks to the child over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startControlApi } from '../../control-api/dist/index.js';

/**
 * The child's API options travel in its environment, as JSON: a command line (/proc/PID/cmdline)
 * is readable by every user, a process's environment only by its owner, and the options hold
 * secrets such as a DATABASE_URL with its password.
 */
const OPTIONS_VARIABLE = 'CYBERCORP_BENCH_API_OPTIONS';

/**
 * Forks the script at `scriptUrl` (its `import.meta.url`) as `--api-child`, hands it `options`
 * for its serveApiChild, and resolves with what the child reports, plus its `pid`, `memory()`
 * (the child's process.memoryUsage(), after a full GC when node runs with --expose-gc), `cpu()`
 * (the child's process.cpuUsage()) and `close()`, which asks the child to close and waits for it.
 * `env` is added to the child's environment.
 */
export async function forkApiChild(scriptUrl, options = {}, env = {}) {
  const child = fork(fileURLToPath(scriptUrl), ['--api-child'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // gc() only runs when `memory()` asks for it.
    execArgv: [...process.execArgv, '--expose-gc'],
    env: { ...process.env, ...env, [OPTIONS_VARIABLE]: JSON.stringify(options) },
  });
  const started = await new Promise((done, fail) => {
    child.once('message', done);
    child.once('exit', (code) => fail(new Error(`the control API exited with ${code}`)));
  });
  const ask = (question) =>
    new Promise((done) => {
      child.once('message', done);
      child.send(question);
    });
  return {
    ...started,
    pid: child.pid,
    memory: () => ask('memory'),
    cpu: () => ask('cpu'),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.send('close');
      await exited;
    },
  };
}

/**
 * The admin every bench API is bootstrapped with, as the login body takes it: a fixed password,
 * so that a driver can log in to an API that runs in a child process (loopback only, throwaway
 * data).
 */
export const BENCH_ADMIN = { username: 'admin', password: 'bench-admin-password' };

/**
 * The control API as the benches start it: on a free port, logging only errors, with BENCH_ADMIN
 * and without the notice of a generated admin password; `options` add to these or override them.
 */
export function startBenchApi(options) {
  return startControlApi({
    port: 0,
    logLevel: 'error',
    announce: () => undefined,
    adminUser: BENCH_ADMIN.username,
    adminPassword: BENCH_ADMIN.password,
    ...options,
  });
}

/** What most drivers need of an API: its URLs and an agent token. */
export const describeBenchApi = async (api) => ({
  url: api.url,
  opampUrl: api.opampUrl,
  agentToken: await api.createAgentToken('bench'),
});

/**
 * In the child (`--api-child`): starts the API with startBenchApi, on `defaults` and the options
 * the parent gave forkApiChild over them, reports what `describe(api)` resolves to (its URLs,
 * tokens made on it, ...) to the parent, and serves until closed (reportAndServeUntilClosed).
 */
export async function serveApiChild(defaults = {}, describe = describeBenchApi) {
  const options = JSON.parse(process.env[OPTIONS_VARIABLE] ?? '{}');
  // Not passed on to what the API spawns (its embedded PostgreSQL).
  delete process.env[OPTIONS_VARIABLE];
  const api = await startBenchApi({ ...defaults, ...options });
  await reportAndServeUntilClosed(api, await describe(api));
}

/**
 * In the child: reports `started` to the parent, answers `memory` and `cpu`, and closes `api`
 * and exits when asked, or when the parent is gone (its IPC channel closed), so that no API
 * outlives a bench that died.
 */
async function reportAndServeUntilClosed(api, started) {
  const closeAsked = new Promise((done) => {
    process.on('message', (message) => {
      if (message === 'cpu') return process.send(process.cpuUsage());
      if (message !== 'memory') return done();
      globalThis.gc?.();
      process.send({ ...process.memoryUsage(), afterGc: typeof globalThis.gc === 'function' });
    });
    process.once('disconnect', done);
  });
  process.send(started);
  await closeAsked;
  await api.close();
  process.exit(0);
}
