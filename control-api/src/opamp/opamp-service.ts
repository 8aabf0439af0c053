import {
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
import type { Clock } from '../infra/clock.js';
import { isDatabaseUnavailable } from '../infra/database-errors.js';
import type { Logger } from '../infra/logger.js';
import type { AgentRepository } from '../repositories/agents.js';
import type { CommandRelay } from '../services/command-relay.js';
import type { Presence, Transport } from '../services/presence.js';
import type { WindowSnapshots } from '../services/window-snapshots.js';
import { describeAgent } from './agent-description.js';
import { SightingThrottle } from './sighting-throttle.js';

export class OpampProtocolError extends Error {
  readonly code = 'bad_request';
}

/** One agent conversation: a WebSocket, or one HTTP poll. */
export interface OpampExchange {
  connectionId: string;
  transport: Transport;
  agentTokenId: string;
  /** True for the first message of a WebSocket and for every HTTP poll. */
  firstMessage: boolean;
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
  heartbeatSeconds: number;
}

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

  constructor(private readonly deps: OpampServiceDeps) {
    this.sightings = new SightingThrottle(Math.min(1000, this.presenceTtlMs / 4));
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
    const agentId = this.agentIdOf(message);
    if (exchange.registered) {
      this.described.delete(agentId);
      this.sightings.forget(agentId);
    }
    if (message.agentDisconnect) {
      this.sightings.forget(agentId);
      await deps.presence.markGone(agentId, exchange.connectionId);
      return undefined;
    }
    const description = message.agentDescription
      ? describeAgent(message.agentDescription)
      : undefined;
    const now = deps.clock.now();
    const sighting = [
      exchange.transport,
      exchange.agentTokenId,
      exchange.connectionId,
      message.capabilities,
    ].join(' ');
    const news =
      exchange.firstMessage ||
      description !== undefined ||
      message.customCapabilities !== undefined;
    let stored = true;
    if (this.sightings.mustWrite(agentId, sighting, now, news)) {
      stored = await this.storeSighting(agentId, {
        id: agentId,
        transport: exchange.transport,
        agentTokenId: exchange.agentTokenId,
        capabilities: message.capabilities,
        seenAt: new Date(now),
        description,
        customCapabilities: message.customCapabilities?.capabilities,
      });
      await deps.presence.markSeen(
        agentId,
        {
          instanceId: deps.instanceId,
          connectionId: exchange.connectionId,
          transport: exchange.transport,
        },
        this.presenceTtlMs,
      );
      if (stored) this.sightings.wrote(agentId, sighting, now);
    }
    if (description && stored) this.described.add(agentId);
    if (message.customMessage?.capability === CONTROL_CAPABILITY) {
      await this.onControlMessage(agentId, message.customMessage.data);
    }

    // What could not be stored is asked for again, so it reaches the row once the database is back.
    const reportFullState = !stored || (!description && !this.described.has(agentId));
    return create(ServerToAgentSchema, {
      instanceUid: message.instanceUid,
      capabilities: SERVER_CAPABILITIES,
      flags: reportFullState ? BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState) : 0n,
      connectionSettings: exchange.firstMessage
        ? {
            hash: new TextEncoder().encode(`heartbeat=${deps.heartbeatSeconds}`),
            opamp: { heartbeatIntervalSeconds: BigInt(deps.heartbeatSeconds) },
          }
        : undefined,
    });
  }

  /**
   * Writes the agent's row. A live session outlasts a database outage: the agent stays present
   * and its commands keep flowing; only the write is skipped (and retried with the next message).
   */
  private async storeSighting(
    agentId: string,
    row: Parameters<AgentRepository['upsert']>[0],
  ): Promise<boolean> {
    try {
      await this.deps.agents.upsert(row);
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

  private async onControlMessage(agentId: string, data: Uint8Array): Promise<void> {
    let message;
    try {
      message = decodeAgentMessage(data);
    } catch (error) {
      if (!(error instanceof ControlMessageError)) throw error;
      this.deps.logger.warn('agent sent an invalid control message', {
        agentId,
        error: error.message,
      });
      return;
    }
    if (message.type === 'result') this.deps.relay.onAgentResult(agentId, message);
    else await this.deps.windows.put(agentId, message);
  }
}
