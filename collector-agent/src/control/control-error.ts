import type { ErrorCode } from '@cybercorp/protocol';

/** An expected failure of a control command, carried back to the server as a failed result. */
export class ControlError extends Error {
  constructor(
    readonly code: Extract<
      ErrorCode,
      | 'protected_process'
      | 'control_disabled'
      | 'no_such_process'
      | 'process_changed'
      | 'no_such_window'
      | 'deadline_exceeded'
      | 'capability_missing'
      | 'validation_failed'
      | 'action_failed'
    >,
    message: string,
  ) {
    super(message);
  }
}
