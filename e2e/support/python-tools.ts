/**
 * The Python tools `scripts/setup-python` installs, pinned, into one virtualenv outside the work
 * tree (schemathesis, kubernetes-validate). A missing install fails the test that needs it,
 * naming the tool; it never skips.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The virtualenv `scripts/setup-python` creates (same rule, same override variable). */
export function pythonVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CYBERCORP_PYTHON_VENV) return env.CYBERCORP_PYTHON_VENV;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'cybercorp', 'venv');
}

/** Absolute path of the tool's command in the virtualenv; throws when it is not installed. */
export function requirePythonTool(tool: string): string {
  const cli = join(pythonVenvDir(), 'bin', tool);
  try {
    accessSync(cli, constants.X_OK);
    return cli;
  } catch {
    throw new Error(
      `${tool} is not installed at ${cli}: run scripts/setup-python (scripts/setup-deps calls it)`,
    );
  }
}
