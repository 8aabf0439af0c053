import { BatchWriter } from '../infra/batch-writer.js';
import type { Clock } from '../infra/clock.js';
import { isDatabaseUnavailable } from '../infra/database-errors.js';
import type { Logger } from '../infra/logger.js';
import type { EventFilter, EventRepository, EventRow, NewEvent } from '../repositories/events.js';
import { keysetPage } from './keyset-page.js';

/** The events the OpAMP server writes; audited actions become events in the database. */
export type PresenceEventType = 'agent.connected' | 'agent.disconnected';

/**
 * The event history: agents coming and going, and every audited action (a trigger on
 * audit_events). Presence events are group-committed, so a fleet reconnecting at once costs a
 * few statements, and never delay or fail the OpAMP exchange that caused them: when the
 * database is down they are logged and counted as lost.
 */
export class EventService {
  private readonly writer: BatchWriter<NewEvent, undefined>;

  constructor(
    private readonly repository: EventRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.writer = new BatchWriter(async (events) => {
      await repository.insertMany(events);
      return events.map(() => undefined);
    });
  }

  presence(agentId: string, type: PresenceEventType, details: Record<string, unknown> = {}): void {
    const at = new Date(this.clock.now());
    this.writer.add({ at, type, agentId, details }).catch((error: unknown) => {
      const level = isDatabaseUnavailable(error) ? 'warn' : 'error';
      this.logger[level]('an agent presence event was not recorded', { agentId, type, err: error });
    });
  }

  /** Settles once every presence event added so far is written (or failed). */
  written(): Promise<void> {
    return this.writer.idle();
  }

  page(
    filter: Omit<EventFilter, 'beforeId' | 'limit'>,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ items: EventRow[]; nextCursor: string | null }> {
    return keysetPage(
      (beforeId, pageLimit) => this.repository.list({ ...filter, beforeId, limit: pageLimit }),
      limit,
      cursor,
    );
  }
}
