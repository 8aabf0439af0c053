import type { Clock } from '../infra/clock.js';
import { keysetPage } from './keyset-page.js';
import type { AuditFilter, AuditEvent, AuditRepository, AuditRow } from '../repositories/audit.js';

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

  /**
   * One page of the audit log, newest first, with every filter applied in the query; the cursor
   * (`nextCursor` of the previous page with the same filters) continues the filtered list.
   */
  async page(
    filter: Omit<AuditFilter, 'beforeId' | 'limit'>,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ items: AuditRow[]; nextCursor: string | null }> {
    return keysetPage(
      (beforeId, pageLimit) => this.repository.list({ ...filter, beforeId, limit: pageLimit }),
      limit,
      cursor,
    );
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
