import type { ProcessSample, ProcessTable } from './processes.js';

export interface SafetySettings {
  controlEnabled: boolean;
  protectedNames: readonly string[];
  protectedUsers: readonly string[];
}

export type PolicyDecision =
  | { allowed: true }
  | {
      allowed: false;
      code: 'protected_process' | 'control_disabled';
      rule: string;
      message: string;
    };

/** Linux truncates a process's comm to 15 bytes, so a longer protected name matches its prefix. */
const COMM_LENGTH = 15;

/** Stops the ppid walk even if /proc ever presented a cycle. */
const MAX_ANCESTRY_DEPTH = 4096;

/**
 * The agent's local safety policy. It is always on and has no server-side override: the only
 * inputs are the local config (through `settings`) and the host's own process table.
 */
export class SafetyPolicy {
  /** A superset of the agent's ancestors (see `isAncestor`). */
  private knownAncestors: Set<number> | undefined;

  constructor(
    private readonly table: ProcessTable,
    private readonly settings: () => SafetySettings,
    private readonly selfPid: number = process.pid,
  ) {}

  /** Whether the target process may be signalled. `target` is the table's current view of it. */
  async check(target: ProcessSample): Promise<PolicyDecision> {
    const settings = this.settings();
    if (!settings.controlEnabled) {
      return refuse(
        'control_disabled',
        'control.enabled',
        'remote control is disabled in the local agent config',
      );
    }
    const pid = target.pid;
    if (pid <= 1)
      return refuse('protected_process', 'init', `pid ${pid} is init or the kernel scheduler`);
    if (pid === this.selfPid)
      return refuse('protected_process', 'self', `pid ${pid} is the agent itself`);
    if (target.kernelThread)
      return refuse('protected_process', 'kernel-thread', `pid ${pid} is a kernel thread`);
    if (matchesName(target, settings.protectedNames)) {
      return refuse(
        'protected_process',
        'protected.names',
        `process name "${target.name}" of pid ${pid} is protected`,
      );
    }
    if (settings.protectedUsers.includes(target.user)) {
      return refuse(
        'protected_process',
        'protected.users',
        `pid ${pid} runs as protected user "${target.user}"`,
      );
    }
    if (await this.isAncestor(pid)) {
      return refuse('protected_process', 'ancestor', `pid ${pid} is an ancestor of the agent`);
    }
    return { allowed: true };
  }

  /**
   * The ancestor walk costs one table read per generation, so a complete walk is remembered.
   * A process is only ever reparented to one of its living ancestors (a subreaper or init), so
   * the agent's ancestors can only shrink: a pid outside the remembered set is not an ancestor
   * now either. A pid inside it may have died or stopped being one, so that rare case is decided
   * by a fresh live walk.
   */
  private async isAncestor(pid: number): Promise<boolean> {
    if (!this.knownAncestors) {
      const walk = await this.walk();
      // A walk cut short (an ancestor exiting mid-walk) is not a superset: never remember it.
      if (!walk.complete) return walk.ancestors.has(pid);
      this.knownAncestors = walk.ancestors;
    }
    if (!this.knownAncestors.has(pid)) return false;
    return (await this.ancestors()).has(pid);
  }

  /** The agent's ancestors, walked live through the process table. */
  async ancestors(): Promise<Set<number>> {
    return (await this.walk()).ancestors;
  }

  /** `complete` when the walk reached the root (a process whose parent is pid 0). */
  private async walk(): Promise<{ ancestors: Set<number>; complete: boolean }> {
    const found = new Set<number>();
    let current = await this.table.get(this.selfPid);
    for (let depth = 0; current && current.ppid > 0 && depth < MAX_ANCESTRY_DEPTH; depth++) {
      if (found.has(current.ppid)) return { ancestors: found, complete: false };
      found.add(current.ppid);
      current = await this.table.get(current.ppid);
    }
    if (found.size === 0 && this.selfPid > 1) {
      // Without our own entry we cannot know whom to protect: fail closed.
      throw new Error(`cannot read the agent's own process entry (pid ${this.selfPid})`);
    }
    return { ancestors: found, complete: current !== undefined && current.ppid <= 0 };
  }
}

function matchesName(target: ProcessSample, names: readonly string[]): boolean {
  const executable = target.command.split(' ', 1)[0] ?? '';
  const base = executable.slice(executable.lastIndexOf('/') + 1);
  return names.some(
    (name) =>
      name === target.name ||
      name === base ||
      (name.length > COMM_LENGTH && name.slice(0, COMM_LENGTH) === target.name),
  );
}

function refuse(
  code: 'protected_process' | 'control_disabled',
  rule: string,
  message: string,
): PolicyDecision {
  return { allowed: false, code, rule, message: `refused by safety rule ${rule}: ${message}` };
}
