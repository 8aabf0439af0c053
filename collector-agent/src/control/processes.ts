import type { ProcessInfo } from '@cybercorp/protocol';

/**
 * One row of the process table with the raw figures the metrics collectors need besides what
 * the control API shows.
 */
export interface ProcessSample extends ProcessInfo {
  /** User plus system CPU time since the process started, in seconds. */
  cpuSeconds: number;
  /** Whether this is a kernel thread (no user space; never signalled). */
  kernelThread: boolean;
  /**
   * Owner's user id, for the safety policy's protected users: on Linux the owner of /proc/<pid>,
   * which is the effective uid that `ps -o user` shows too; -1 where the platform does not tell.
   */
  uid: number;
}

/** A process without its command line and owner: what the per-cycle metrics read for all. */
export type ProcessSummary = Omit<ProcessSample, 'command' | 'user' | 'uid'>;

/**
 * The host's process table. One instance is shared by process control and the process metrics,
 * so CPU percentages are deltas between consecutive reads of the same reader.
 */
export interface ProcessTable {
  /** All processes; CPU percent is relative to the previous call (0 on the first). */
  list(): Promise<ProcessSample[]>;
  /**
   * All processes as `list()` gives them (same CPU baseline) without the command line and owner,
   * where the platform reads those separately: on Linux one file per process instead of two
   * plus a stat. Tables without a cheaper read leave it out; callers then use `list()`.
   */
  listSummaries?(): Promise<ProcessSummary[]>;
  /** One process, or undefined when no such pid exists. */
  get(pid: number): Promise<ProcessSample | undefined>;
  /**
   * The owner's user name of a pid that `listSummaries()` just listed, where the platform tells
   * it more cheaply than `get()` (on Linux one stat of /proc/<pid> instead of three reads and a
   * stat); undefined once the process has gone. Tables without a cheaper read leave it out.
   */
  userOf?(pid: number): Promise<string | undefined>;
}
