import {
  AgentCapabilities,
  CONTROL_CAPABILITY,
  ControlMessageError,
  ServerCapabilities,
  ServerToAgentFlags,
  ServerToAgentSchema,
  create,
  decodeAgentMessage,
  instanceUidToString,
  type AgentToServer,
  type ServerToAgent,
} from '@cybercorp/protocol';
import { LogThrottle } from '@cybercorp/logging';
import { BatchWriter } from '../infra/batch-writer.js';
import type { Clock } from '../infra/clock.js';
import { isDatabaseUnavailable } from '../infra/database-errors.js';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import type { AgentRepository } from '../repositories/agents.js';
import type { CommandRelay } from '../services/command-relay.js';
import type { EventService } from '../services/event-service.js';
import type { Inventory } from '../services/inventory.js';
import type { Presence, Transport } from '../services/presence.js';
import type { WindowSnapshots } from '../services/window-snapshots.js';
import { describeAgent } from './agent-description.js';
import { SequenceTracker } from './sequence-tracker.js';
import { SightingThrottle } from './sighting-throttle.js';

export class OpampProtocolError extends Error {
  readonly code = 'bad_request';
}

/** One agent conversation: a WebSocket, or one HTTP poll. */
export interface OpampExchange {
  /** The message's instance uid as `agentIdOf` gives it (the transports decode it first). */
  agentId: string;
  connectionId: string;
  transport: Transport;
  agentTokenId: string;
  /** True for the first message of a WebSocket and for every HTTP poll. */
  firstMessage: boolean;
  /**
   * The URL the agent reached us at, offered back in OpAMP connection settings; undefined when
   * unknown, and then no connection settings are offered.
   */
  opampEndpoint?: string | undefined;
  /** The uid was just registered (new, or decommissioned before): what is known of it is stale. */
  registered?: boolean;
}

export interface OpampServiceDeps {
  instanceId: string;
  agents: AgentRepository;
  presence: Presence;
  relay: CommandRelay;
  windows: WindowSnapshots;
  clock: Clock;
  logger: Logger;
  metrics: Pick<Metrics, 'opampUnknownResults'>;
  heartbeatSeconds: number;
  /** Agents connecting and going away become events. */
  events: Pick<EventService, 'presence'>;
  /** Window lists from window events are kept as inventory history (not waited for). */
  inventory: Pick<Inventory, 'observeWindows'>;
}

/** How often one connection may log that it sent results nobody waits for. */
export const UNKNOWN_RESULT_LOG_INTERVAL_MS = 60_000;

const ACCEPTS_CONNECTION_SETTINGS = BigInt(
  AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings,
);
const TEXT_ENCODER = new TextEncoder();

const SERVER_CAPABILITIES = BigInt(
  ServerCapabilities.ServerCapabilities_AcceptsStatus |
    ServerCapabilities.ServerCapabilities_OffersConnectionSettings,
);

/**
 * Transport-independent OpAMP handling: records the agent and its presence, routes control
 * results and window events, and builds the reply. Both transports call `handle`.
 */
export class OpampService {
  /** Agents that sent a full description since this process started. */
  private readonly described = new Set<string>();
  private readonly sightings: SightingThrottle;
  /** Heartbeats of agents whose row is current, written together (lastSeenAt only). */
  private readonly touches: BatchWriter<{ id: string; seenAt: Date }, undefined>;
  private readonly sequences = new SequenceTracker();
  private readonly unknownResultLog = new LogThrottle(UNKNOWN_RESULT_LOG_INTERVAL_MS);
  /** One line a minute while what instances share (presence, window snapshots) cannot be written. */
  private readonly sharedStateLog = new LogThrottle(UNKNOWN_RESULT_LOG_INTERVAL_MS);

  constructor(private readonly deps: OpampServiceDeps) {
    this.sightings = new SightingThrottle(Math.min(1000, this.presenceTtlMs / 4));
    this.touches = new BatchWriter(async (rows) => {
      await deps.agents.touchMany(rows);
      return rows.map(() => undefined);
    });
  }

  /** How long a message keeps an agent online: two heartbeat intervals plus a little slack. */
  get presenceTtlMs(): number {
    return this.deps.heartbeatSeconds * 1000 * 2.25;
  }

  agentIdOf(message: AgentToServer): string {
    try {
      return instanceUidToString(message.instanceUid);
    } catch (error) {
      throw new OpampProtocolError(String(error));
    }
  }

  async handle(
    exchange: OpampExchange,
    message: AgentToServer,
  ): Promise<ServerToAgent | undefined> {
    const { deps } = this;
    const { agentId } = exchange;
    if (exchange.registered) {
      this.described.delete(agentId);
      this.sightings.forget(agentId);
    }
    if (message.agentDisconnect) {
      this.sightings.forget(agentId);
      this.sequences.forget(agentId);
      this.unknownResultLog.forget(exchange.connectionId);
      await this.shared('presence', agentId, () =>
        deps.presence.markGone(agentId, exchange.connectionId),
      );
      // A WebSocket agent's departure is recorded when its socket closes (sessionEnded).
      if (exchange.transport === 'http') {
        deps.events.presence(agentId, 'agent.disconnected', { reason: 'agent_disconnect' });
      }
      return undefined;
    }
    // Every HTTP poll is a first message; only a new WebSocket is a connection worth an event.
    if (exchange.firstMessage && exchange.transport === 'websocket') {
      deps.events.presence(agentId, 'agent.connected', {
        transport: exchange.transport,
        instanceId: deps.instanceId,
      });
    }
    const followsLast = this.sequences.follows(agentId, message.sequenceNum);
    const description = message.agentDescription
      ? describeAgent(message.agentDescription)
      : undefined;
    const now = deps.clock.now();
    const sighting = `${exchange.transport} ${exchange.agentTokenId} ${exchange.connectionId} ${message.capabilities}`;
    const news =
      exchange.firstMessage ||
      description !== undefined ||
      message.customCapabilities !== undefined;
    const write = this.sightings.decide(agentId, sighting, now, news);
    // Most heartbeats write nothing: they make no promise at all.
    const sightingStored =
      write === 'none'
        ? undefined
        : this.writeSighting(exchange, message, write, sighting, now, description);
    // Awaited below, after the control message: until then a failure must not count as unhandled.
    sightingStored?.catch(() => undefined);
    if (message.customMessage?.capability === CONTROL_CAPABILITY) {
      // A command's result ends a call someone is waiting for, and depends on nothing the row
      // write changes: it is handed on without waiting for that write's group commit (tens of
      // ms under load). Only news (a first message) is written first, so that the row exists
      // before what the message brings refers to it.
      if (news) await sightingStored;
      await this.onControlMessage(agentId, exchange.connectionId, message.customMessage.data);
    }
    const stored = sightingStored === undefined || (await sightingStored);
    if (description && stored) this.described.add(agentId);

    // What could not be stored is asked for again, so it reaches the row once the database is back;
    // a gap in sequence_num means a message with state in it may be lost (the spec's rule).
    const reportFullState =
      !stored || !followsLast || (!description && !this.described.has(agentId));
    return create(ServerToAgentSchema, {
      instanceUid: message.instanceUid,
      capabilities: SERVER_CAPABILITIES,
      flags: reportFullState ? BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState) : 0n,
      connectionSettings: exchange.firstMessage
        ? this.connectionSettingsFor(message.capabilities, exchange.opampEndpoint)
        : undefined,
    });
  }

  /**
   * Keeps the presence of an agent alive that proves itself by WebSocket pongs rather than by
   * heartbeats (one that does not declare ReportsHeartbeat).
   */
  async keepAlive(agentId: string, connectionId: string): Promise<void> {
    await this.deps.presence.markSeen(
      agentId,
      { instanceId: this.deps.instanceId, connectionId, transport: 'websocket' },
      this.presenceTtlMs,
    );
  }

  /** Called when the WebSocket that held the agent has closed (and no newer one holds it). */
  sessionEnded(agentId: string, reason: string): void {
    this.deps.events.presence(agentId, 'agent.disconnected', {
      reason,
      instanceId: this.deps.instanceId,
    });
  }

  /** Called when a connection ends, to drop what was kept for it. */
  connectionClosed(connectionId: string): void {
    this.unknownResultLog.forget(connectionId);
  }

  /**
   * Writes what the instances share through Redis. Redis being away costs the other instances
   * their view of this agent, never the agent its connection: the failure is logged (once a
   * minute) and the agent stays connected here, where its commands keep working. False when the
   * write failed.
   */
  private async shared(what: string, agentId: string, write: () => Promise<void>) {
    try {
      await write();
      return true;
    } catch (error) {
      const line = this.sharedStateLog.take(what, this.deps.clock.now());
      if (line) {
        this.deps.logger.warn(`cannot share the agent's ${what} while Redis is unavailable`, {
          agentId,
          error: error instanceof Error ? error.message : String(error),
          suppressedSinceLastLine: line.suppressed,
        });
      }
      return false;
    }
  }

  /**
   * OpAMP connection settings (our heartbeat interval) go only to agents that declare
   * AcceptsOpAMPConnectionSettings, and always name a destination: the spec requires a non-empty
   * destination_endpoint, and an agent may reconnect to whatever it is given.
   */
  private connectionSettingsFor(capabilities: bigint, endpoint: string | undefined) {
    if ((capabilities & ACCEPTS_CONNECTION_SETTINGS) === 0n || !endpoint) return undefined;
    const heartbeatIntervalSeconds = BigInt(this.deps.heartbeatSeconds);
    return {
      hash: TEXT_ENCODER.encode(`${endpoint} heartbeat=${heartbeatIntervalSeconds}`),
      opamp: { destinationEndpoint: endpoint, heartbeatIntervalSeconds },
    };
  }

  /**
   * Writes the agent's row and its presence; false when the row could not be written. What
   * could not be written is written again with the next message.
   */
  private async writeSighting(
    exchange: OpampExchange,
    message: AgentToServer,
    write: 'touch' | 'upsert',
    sighting: string,
    now: number,
    description: ReturnType<typeof describeAgent> | undefined,
  ): Promise<boolean> {
    const { deps } = this;
    const { agentId } = exchange;
    const stored = await this.storeSighting(agentId, () =>
      // A heartbeat of an agent whose row is current only moves lastSeenAt: group-committed
      // with the other agents' heartbeats instead of one upsert each.
      write === 'touch'
        ? this.touches.add({ id: agentId, seenAt: new Date(now) })
        : deps.agents.upsert({
            id: agentId,
            transport: exchange.transport,
            agentTokenId: exchange.agentTokenId,
            capabilities: message.capabilities,
            seenAt: new Date(now),
            description,
            customCapabilities: message.customCapabilities?.capabilities,
          }),
    );
    const shared = await this.shared('presence', agentId, () =>
      deps.presence.markSeen(
        agentId,
        {
          instanceId: deps.instanceId,
          connectionId: exchange.connectionId,
          transport: exchange.transport,
        },
        this.presenceTtlMs,
      ),
    );
    if (stored && shared) this.sightings.wrote(agentId, sighting, now);
    return stored;
  }

  /**
   * Writes the agent's row. A live session outlasts a database outage: the agent stays present
   * and its commands keep flowing; only the write is skipped (and retried with the next message).
   */
  private async storeSighting(agentId: string, write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.deps.logger.warn('cannot record an agent sighting while the database is unavailable', {
        agentId,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }

  private async onControlMessage(
    agentId: string,
    connectionId: string,
    data: Uint8Array,
  ): Promise<void> {
    let message;
    try {
      message = decodeAgentMessage(data);
    } catch (error) {
      if (!(error instanceof ControlMessageError)) throw error;
      this.deps.logger.warn('agent sent an invalid control message', {
        agentId,
        err: error,
      });
      return;
    }
    if (message.type !== 'result') {
      await this.shared('windows', agentId, () => this.deps.windows.put(agentId, message));
      this.deps.inventory.observeWindows(agentId, message);
      return;
    }
    if (this.deps.relay.onAgentResult(agentId, message)) return;
    // Late results are normal after a timeout; a flood of them is an agent gone wrong. Either way
    // they are counted, and logged at most once a minute per connection.
    this.deps.metrics.opampUnknownResults.inc();
    const line = this.unknownResultLog.take(connectionId, this.deps.clock.now());
    if (line) {
      this.deps.logger.warn('result for no waiting command (late or unknown)', {
        agentId,
        commandId: message.commandId,
        suppressedSinceLastLine: line.suppressed,
      });
    }
  }
}
