/**
 * /proc/<pid>/cgroup, parsed. Pure functions on strings so they are tested on literal fixtures;
 * the read lives in `cgroups.linux.ts`.
 */

/**
 * The cgroup paths of a process, one per hierarchy, relative to the cgroup root and without
 * slashes at either end. cgroup v2 has one line (`0::/system.slice/sshd.service`); v1 has one
 * per controller (`4:memory:/system.slice/sshd.service`, `1:name=systemd:/...`), and a hybrid
 * host has both. The root itself is the empty string.
 */
export function parseCgroupPaths(text: string): string[] {
  const paths = new Set<string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    // A path may itself contain ':', so it is everything after the second one.
    if (second < 0) continue;
    paths.add(normalizeCgroup(line.slice(second + 1)));
  }
  return [...paths];
}

/** `/system.slice/sshd.service/` and `system.slice/sshd.service` name the same cgroup. */
export function normalizeCgroup(path: string): string {
  let start = 0;
  let end = path.length;
  while (start < end && path.charCodeAt(start) === 47) start++;
  while (end > start && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(start, end);
}

/** Whether a process in `paths` is in `cgroup` or below it (a unit's sub-cgroups belong to it). */
export function inCgroup(paths: readonly string[], cgroup: string): boolean {
  const wanted = normalizeCgroup(cgroup);
  if (wanted === '') return true;
  return paths.some((path) => path === wanted || path.startsWith(`${wanted}/`));
}
