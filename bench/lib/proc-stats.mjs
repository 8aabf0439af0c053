// Figures of one process read from /proc (Linux): its CPU time and its memory, by pid.
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat (100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** utime + stime of one process in seconds (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** A `kB` line of /proc/<pid>/status (VmRSS, VmHWM, ...), in kB. */
export function statusKb(pid, key) {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  if (!match) throw new Error(`${key} missing for pid ${pid}`);
  return Number(match[1]);
}
