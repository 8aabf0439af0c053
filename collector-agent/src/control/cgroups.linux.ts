import { parseCgroupPaths } from '../proc/pid-cgroup.js';
import { ProcFileReader } from '../proc/proc-file-reader.js';

/** The cgroup paths of a pid (see parseCgroupPaths); undefined once the process has gone. */
export type CgroupsOf = (pid: number) => Promise<readonly string[] | undefined>;

/**
 * Reads /proc/<pid>/cgroup (synchronously, as every /proc read: see ProcFileReader). Only asked
 * for when the local config protects cgroups, so an agent without such a rule never reads it.
 * Elsewhere than Linux there are no cgroups: nothing is in one, and a protected cgroup protects
 * nothing.
 */
export function procCgroups(
  procRoot = '/proc',
  platform: NodeJS.Platform = process.platform,
): CgroupsOf {
  if (platform !== 'linux') return async () => [];
  let files: ProcFileReader | undefined;
  return async (pid) => {
    files ??= new ProcFileReader();
    const text = files.readProcessFile(`${procRoot}/${pid}/cgroup`);
    return text === undefined ? undefined : parseCgroupPaths(text);
  };
}
