import type { Clock } from '../infra/clock.js';
import type { AuditEvent, AuditRepository } from '../repositories/audit.js';

export type AuditInput = Omit<
  AuditEvent,
  'at' | 'targetId' | 'agentId' | 'reason' | 'errorCode' | 'commandId'
> &
  Partial<Pick<AuditEvent, 'targetId' | 'agentId' | 'reason' | 'errorCode' | 'commandId'>>;

export class AuditService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly clock: Clock,
  ) {}

  record(event: AuditInput): Promise<void> {
    return this.repository.append(this.event(event));
  }

  /** The complete event, stamped now, for a caller that writes it together with other data. */
  event(event: AuditInput): AuditEvent {
    return {
      targetId: null,
      agentId: null,
      reason: null,
      errorCode: null,
      commandId: null,
      ...event,
      at: new Date(this.clock.now()),
    };
  }
}
