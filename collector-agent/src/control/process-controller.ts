import { SIGNAL_OF_ACTION, type ProcessAction } from '@cybercorp/protocol';
import { ControlError } from './control-error.js';

export type SendSignal = (pid: number, signal: NodeJS.Signals) => void;

/** Sends the signal of a process action. Policy checks happen before, in the executor. */
export class ProcessController {
  constructor(
    private readonly sendSignal: SendSignal = (pid, signal) => process.kill(pid, signal),
  ) {}

  signal(pid: number, action: ProcessAction): NodeJS.Signals {
    const signal = SIGNAL_OF_ACTION[action];
    try {
      this.sendSignal(pid, signal);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') throw new ControlError('no_such_process', `no process with pid ${pid}`);
      if (code === 'EPERM') {
        throw new ControlError('action_failed', `not permitted to send ${signal} to pid ${pid}`);
      }
      throw error;
    }
    return signal;
  }
}
