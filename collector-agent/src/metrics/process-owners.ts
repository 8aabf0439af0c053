import type { ProcessSummary } from '../control/processes.js';
import type { ProcessSnapshot } from './process-snapshot.js';

interface KnownOwner {
  owner: string;
  readAtMillis: number;
}

export interface ProcessOwnersOptions {
  snapshot: ProcessSnapshot;
  /**
   * How long a process's owner is trusted before it is read again. A process may change its
   * effective user (a daemon dropping root), so the owner is not kept for the process's life.
   */
  maxAgeMillis: number;
  now?: () => number;
}

/**
 * The owners of the processes one cycle exports. The top N are mostly the same processes from
 * cycle to cycle, and reading an owner costs the table four system calls per process (as many
 * as listing every process), so an owner read recently is reused. Entries are replaced
 * wholesale each cycle: only this cycle's selection is remembered, whatever the pid churn.
 */
export class ProcessOwners {
  private known = new Map<string, KnownOwner>();
  private readonly now: () => number;

  constructor(private readonly options: ProcessOwnersOptions) {
    this.now = options.now ?? Date.now;
  }

  get rememberedCount(): number {
    return this.known.size;
  }

  /** Owner per pid of the given processes; a process that exited before its read is left out. */
  async ownersOf(processes: readonly ProcessSummary[]): Promise<Map<number, string>> {
    const atMillis = this.now();
    const next = new Map<string, KnownOwner>();
    const owners = new Map<number, string>();
    for (const process of processes) {
      const key = keyOf(process);
      let known = this.known.get(key);
      if (!known || atMillis - known.readAtMillis >= this.options.maxAgeMillis) {
        const owner = await this.options.snapshot.ownerOf(process);
        known = owner === undefined ? undefined : { owner, readAtMillis: atMillis };
      }
      if (!known) continue;
      next.set(key, known);
      owners.set(process.pid, known.owner);
    }
    this.known = next;
    return owners;
  }
}

/** Pid plus start time: a reused pid is another process, maybe of another user. */
function keyOf(process: ProcessSummary): string {
  return `${process.pid}@${process.startedAt ?? ''}`;
}
