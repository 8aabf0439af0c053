import { ProcParseError } from './parse-error.js';

/** Thread group id (the process id) from the `Tgid:` line of /proc/<id>/status. */
export function parseStatusTgid(status: string): number {
  const match = /^Tgid:\s+(\d+)/m.exec(status);
  if (!match) throw new ProcParseError('/proc/<id>/status', 'no Tgid line');
  return Number(match[1]);
}
