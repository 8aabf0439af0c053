import { inCgroup } from '../proc/pid-cgroup.js';
import { procCgroups, type CgroupsOf } from './cgroups.linux.js';
import { controlPlaneProcess } from './control-plane-processes.js';
import type { ProcessSample, ProcessTable } from './processes.js';

export interface SafetySettings {
  controlEnabled: boolean;
  protectedNames: readonly string[];
  protectedUsers: readonly string[];
  /** Pids that are never signalled (e.g. a process this host's operators pinned). */
  protectedPids?: readonly number[];
  /** cgroups whose processes (and sub-cgroups') are never signalled, e.g. `system.slice/sshd.service`. */
  protectedCgroups?: readonly string[];
}

export type PolicyDecision =
  | { allowed: true }
  | {
      allowed: false;
      code: 'protected_process' | 'control_disabled';
      rule: string;
      message: string;
    };

const ALLOWED: PolicyDecision = { allowed: true };

const CONTROL_PLANE_RULES = {
  database: { rule: 'control-plane.database', what: "the control plane's PostgreSQL" },
  'control-api': { rule: 'control-plane.api', what: 'the control API' },
} as const;

/** Linux truncates a process's comm to 15 bytes, so a longer protected name matches its prefix. */
const COMM_LENGTH = 15;

/** Stops the ppid walk even if /proc ever presented a cycle. */
const MAX_ANCESTRY_DEPTH = 4096;

/**
 * The agent's local safety policy. It is always on and has no server-side override: the only
 * inputs are the local config (through `settings`) and the host's own process table. Besides
 * what the config lists, it always protects the control plane when it shares the host (see
 * control-plane-processes.ts).
 */
export class SafetyPolicy {
  /** A superset of the agent's ancestors (see `isAncestor`). */
  private knownAncestors: Set<number> | undefined;

  constructor(
    private readonly table: ProcessTable,
    private readonly settings: () => SafetySettings,
    private readonly selfPid: number = process.pid,
    private readonly cgroupsOf: CgroupsOf = procCgroups(),
  ) {}

  /** Whether the target process may be signalled. `target` is the table's current view of it. */
  async check(target: ProcessSample): Promise<PolicyDecision> {
    const settings = this.settings();
    if (!settings.controlEnabled) return controlDisabled();
    const pid = target.pid;
    if (pid <= 1)
      return refuse('protected_process', 'init', `pid ${pid} is init or the kernel scheduler`);
    if (pid === this.selfPid)
      return refuse('protected_process', 'self', `pid ${pid} is the agent itself`);
    if (target.kernelThread)
      return refuse('protected_process', 'kernel-thread', `pid ${pid} is a kernel thread`);
    if (settings.protectedPids?.includes(pid)) {
      return refuse('protected_process', 'protected.pids', `pid ${pid} is protected`);
    }
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
    const part = controlPlaneProcess(target);
    if (part) {
      const { rule, what } = CONTROL_PLANE_RULES[part];
      return refuse('protected_process', rule, `pid ${pid} ("${target.name}") is ${what}`);
    }
    const cgroup = await this.protectedCgroupOf(pid, settings.protectedCgroups ?? []);
    if (cgroup !== undefined) {
      return refuse(
        'protected_process',
        'protected.cgroups',
        `pid ${pid} is in protected cgroup "${cgroup}"`,
      );
    }
    if (await this.isAncestor(pid)) {
      return refuse('protected_process', 'ancestor', `pid ${pid} is an ancestor of the agent`);
    }
    return ALLOWED;
  }

  /**
   * Whether a window owned by `pid` may be acted on: the rules that protect a process protect
   * its windows too (closing a window usually ends its process). A window that names no owner
   * (no `_NET_WM_PID`), or one whose owner is not a process of this host (an X client on another
   * machine), has nothing here to protect, so only the control switch applies to it.
   */
  async checkWindowOwner(pid: number | null): Promise<PolicyDecision> {
    if (!this.settings().controlEnabled) return controlDisabled();
    if (pid === null) return ALLOWED;
    const owner = await this.table.get(pid);
    return owner ? this.check(owner) : ALLOWED;
  }

  /** The first protected cgroup `pid` is in; reads /proc only when some cgroup is protected. */
  private async protectedCgroupOf(
    pid: number,
    protectedCgroups: readonly string[],
  ): Promise<string | undefined> {
    if (protectedCgroups.length === 0) return undefined;
    const paths = await this.cgroupsOf(pid);
    // Gone since it was looked up: nothing left to protect, and the signal finds no process.
    if (paths === undefined) return undefined;
    return protectedCgroups.find((cgroup) => inCgroup(paths, cgroup));
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

function controlDisabled(): PolicyDecision {
  return refuse(
    'control_disabled',
    'control.enabled',
    'remote control is disabled in the local agent config',
  );
}

function refuse(
  code: 'protected_process' | 'control_disabled',
  rule: string,
  message: string,
): PolicyDecision {
  return { allowed: false, code, rule, message: `refused by safety rule ${rule}: ${message}` };
}
