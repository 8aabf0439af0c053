/**
 * schemathesis, the OpenAPI fuzzer, as `scripts/setup-python` installs it: a pinned version in a
 * virtualenv outside the work tree. A missing install fails the test that needs it, naming it.
 */
import { runCommand, type RunResult } from './processes.js';
import { requirePythonTool } from './python-tools.js';

/** Absolute path of the schemathesis CLI; throws (never skips) when it is not installed. */
export function requireSchemathesis(): string {
  return requirePythonTool('schemathesis');
}

export interface SchemathesisRun {
  /** The OpenAPI document's URL; requests go to the servers it names, on the same origin. */
  schemaUrl: string;
  /** `schemathesis.toml` contents (operation overrides, headers from environment variables). */
  configFile: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/**
 * Runs `schemathesis --config-file <file> run <schemaUrl> <args>` to completion. Only loopback
 * is in play: proxies from the environment are dropped so no request leaves the machine.
 */
export async function runSchemathesis(run: SchemathesisRun): Promise<RunResult> {
  const cli = requireSchemathesis();
  const env: NodeJS.ProcessEnv = { ...process.env, ...run.env, NO_COLOR: '1' };
  for (const name of [
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'ALL_PROXY',
    'http_proxy',
    'https_proxy',
    'all_proxy',
  ])
    delete env[name];
  env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
  return runCommand(cli, ['--config-file', run.configFile, 'run', run.schemaUrl, ...run.args], {
    cwd: run.cwd,
    env,
    timeoutMs: run.timeoutMs,
  });
}
