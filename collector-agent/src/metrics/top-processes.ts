import type { ProcessSummary } from '../control/processes.js';

export interface RatedProcess {
  sample: ProcessSummary;
  cpuUtilization: number;
}

/**
 * The top `n` by CPU united with the top `n` by memory, at most `maxProcesses` in all, busiest
 * by CPU first. Ties go to the lower pid so the selection is stable between cycles.
 */
export function selectTopProcesses(
  processes: readonly RatedProcess[],
  n: number,
  maxProcesses: number,
): RatedProcess[] {
  const byCpu = [...processes].sort(
    (a, b) => b.cpuUtilization - a.cpuUtilization || a.sample.pid - b.sample.pid,
  );
  const byMemory = [...processes].sort(
    (a, b) => b.sample.memoryBytes - a.sample.memoryBytes || a.sample.pid - b.sample.pid,
  );
  const chosen = new Map<number, RatedProcess>();
  for (const process of [...byCpu.slice(0, n), ...byMemory.slice(0, n)]) {
    if (chosen.size >= maxProcesses) break;
    chosen.set(process.sample.pid, process);
  }
  return [...chosen.values()];
}
