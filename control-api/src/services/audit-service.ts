import type { Clock } from '../infra/clock.js';
import type { AuditEvent, AuditRepository, AuditRow } from '../repositories/audit.js';

export type AuditFilter = Parameters<AuditRepository['list']>[0];

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

  /** Newest first, as the repository pages them. */
  list(filter: AuditFilter): Promise<AuditRow[]> {
    return this.repository.list(filter);
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
