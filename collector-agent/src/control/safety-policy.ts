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
    if ((await this.ancestors()).has(pid)) {
      return refuse('protected_process', 'ancestor', `pid ${pid} is an ancestor of the agent`);
    }
    return { allowed: true };
  }

  /** The agent's ancestors, walked through the process table each time since reparenting happens. */
  async ancestors(): Promise<Set<number>> {
    const found = new Set<number>();
    let current = await this.table.get(this.selfPid);
    for (let depth = 0; current && current.ppid > 0 && depth < MAX_ANCESTRY_DEPTH; depth++) {
      if (found.has(current.ppid)) break;
      found.add(current.ppid);
      current = await this.table.get(current.ppid);
    }
    if (found.size === 0 && this.selfPid > 1) {
      // Without our own entry we cannot know whom to protect: fail closed.
      throw new Error(`cannot read the agent's own process entry (pid ${this.selfPid})`);
    }
    return found;
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
