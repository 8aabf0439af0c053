import type { ProcessInfo } from '@cybercorp/protocol';

export type ProcessSortKey = 'cpuPercent' | 'memoryBytes' | 'pid' | 'name';
export type SortDirection = 'asc' | 'desc';

export interface ProcessSort {
  key: ProcessSortKey;
  direction: SortDirection;
}

/** Heavy consumers first by default; numbers start descending, names ascending. */
export const DEFAULT_SORT: ProcessSort = { key: 'cpuPercent', direction: 'desc' };

export function nextSort(current: ProcessSort, key: ProcessSortKey): ProcessSort {
  if (current.key === key) {
    return { key, direction: current.direction === 'asc' ? 'desc' : 'asc' };
  }
  return { key, direction: key === 'name' || key === 'pid' ? 'asc' : 'desc' };
}

export function filterProcesses(processes: ProcessInfo[], filter: string): ProcessInfo[] {
  const needle = filter.trim().toLowerCase();
  if (needle === '') {
    return processes;
  }
  return processes.filter(
    (p) =>
      String(p.pid) === needle ||
      p.name.toLowerCase().includes(needle) ||
      p.user.toLowerCase().includes(needle) ||
      p.command.toLowerCase().includes(needle),
  );
}

export function sortProcesses(processes: ProcessInfo[], sort: ProcessSort): ProcessInfo[] {
  const sign = sort.direction === 'asc' ? 1 : -1;
  return [...processes].sort((a, b) => {
    const primary = sort.key === 'name' ? a.name.localeCompare(b.name) : a[sort.key] - b[sort.key];
    // pid breaks ties so rows do not jump between refreshes.
    return primary !== 0 ? sign * primary : a.pid - b.pid;
  });
}
