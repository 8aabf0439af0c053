import type { ProcessAction, ProcessSignalResult } from '@cybercorp/protocol';
import { ControlError } from './control-error.js';
import type { ProcessController } from './process-controller.js';
import type { ProcessSample, ProcessTable } from './processes.js';

type LeftState = NonNullable<ProcessSignalResult['state']>;

export interface ProcessActionsOptions {
  /**
   * Pauses (ms) between looks at a suspended or resumed process until it shows the state the
   * signal asked for; 0 yields to the event loop only. The first look is right after the
   * signal. Bounded: after the last pause the state seen is reported as it is.
   */
  settlePausesMs?: readonly number[];
}

/**
 * SIGSTOP takes effect when the target next runs, which may be a moment after kill() returned:
 * a few quick looks first, then longer pauses, about half a second in all.
 */
const SETTLE_PAUSES_MS = [0, 0, 1, 2, 5, 10, 20, 50, 100, 100, 200];

/**
 * Carries out a process action on a process the policy has let through, and tells what came of
 * it: the signals sent and, for `suspend` and `resume`, the state the process was left in.
 */
export class ProcessActions {
  private readonly settlePausesMs: readonly number[];

  constructor(
    private readonly controller: ProcessController,
    private readonly table: ProcessTable,
    options: ProcessActionsOptions = {},
  ) {
    this.settlePausesMs = options.settlePausesMs ?? SETTLE_PAUSES_MS;
  }

  /** `target` is the live view the policy decided on; its state says whether it is stopped. */
  async perform(target: ProcessSample, action: ProcessAction): Promise<ProcessSignalResult> {
    const wasStopped = isJobControlStopped(target.state);
    const signals: NodeJS.Signals[] = [this.controller.signal(target.pid, action)];
    switch (action) {
      case 'terminate':
        // A stopped process keeps SIGTERM pending until it runs again; systemd sends SIGCONT
        // after the kill signal for the same reason.
        if (wasStopped && this.continueAfterTerm(target.pid)) {
          signals.push('SIGCONT');
        }
        return { signals };
      case 'kill':
        return { signals };
      case 'suspend':
        return { signals, state: await this.settle(target.pid, 'stopped') };
      case 'resume':
        return { signals, state: await this.settle(target.pid, 'running') };
    }
  }

  /** False when the process exited on the SIGTERM before the SIGCONT reached it. */
  private continueAfterTerm(pid: number): boolean {
    try {
      this.controller.signal(pid, 'resume');
      return true;
    } catch (error) {
      if (error instanceof ControlError && error.code === 'no_such_process') return false;
      throw error;
    }
  }

  /** Reads the process until it shows `wanted` (or has gone), at most `settlePausesMs` times. */
  private async settle(pid: number, wanted: LeftState): Promise<LeftState> {
    let seen = leftState(await this.table.get(pid));
    for (const pauseMs of this.settlePausesMs) {
      if (seen === wanted || seen === 'gone') return seen;
      await pause(pauseMs);
      seen = leftState(await this.table.get(pid));
    }
    return seen;
  }
}

/** `T`: stopped by a signal; `t` is a tracer's stop, which SIGCONT does not end. */
function isJobControlStopped(state: string): boolean {
  return state === 'T';
}

function leftState(sample: ProcessSample | undefined): LeftState {
  if (!sample || sample.state === 'Z' || sample.state === 'X') return 'gone';
  return sample.state === 'T' || sample.state === 't' ? 'stopped' : 'running';
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
}
