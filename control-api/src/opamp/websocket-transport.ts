import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CONTROL_CAPABILITY,
  CustomMessageSchema,
  ServerToAgentSchema,
  create,
  encodeControlData,
  instanceUidFromString,
  websocketFrames,
  type AgentToServer,
  type ControlCommand,
} from '@cybercorp/protocol';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import type { AgentTokenRow } from '../repositories/agent-tokens.js';
import type { CommandRelay } from '../services/command-relay.js';
import type { Presence } from '../services/presence.js';
import { errorResponseOf, type ConnectionGate, type Refusal } from './connection-gate.js';
import type { CommandChannel, ConnectionRegistry } from './connection-registry.js';
import type { OpampService } from './opamp-service.js';

/** Largest OpAMP message accepted on either transport; bigger WebSocket frames close with 1009. */
export const MAX_OPAMP_MESSAGE_BYTES = 1024 * 1024;

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_INTERNAL_ERROR = 1011;
/** Application codes (4000–4999 are free for applications). */
export const CLOSE_REPLACED = 4000;
export const CLOSE_HEARTBEAT_TIMEOUT = 4001;

export interface WebSocketTransportDeps {
  service: OpampService;
  gate: Pick<ConnectionGate, 'onAgentIdentified'>;
  registry: ConnectionRegistry;
  relay: CommandRelay;
  presence: Presence;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  heartbeatSeconds: number;
}

/** OpAMP over WebSocket. `accept` gets only upgrades the connection gate let through. */
export class WebSocketTransport {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_OPAMP_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  private readonly sessions = new Set<AgentSession>();
  /** Revoked while this instance runs: an upgrade authenticated just before is closed too. */
  private readonly revokedTokens = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly deps: WebSocketTransportDeps) {
    const sweepMs = Math.max(100, (deps.heartbeatSeconds * 1000) / 2);
    this.sweeper = setInterval(() => this.closeSilentSessions(), sweepMs);
    this.sweeper.unref();
  }

  accept(request: IncomingMessage, socket: Duplex, head: Buffer, token: AgentTokenRow): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const session = new AgentSession(ws, token, this.deps, () => this.sessions.delete(session));
      this.sessions.add(session);
      this.deps.metrics.opampConnects.inc();
      if (this.revokedTokens.has(token.id)) session.closeRevoked();
    });
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** The agent tokens of the sessions open here. */
  liveTokenIds(): string[] {
    return [...this.sessions].map((s) => s.tokenId);
  }

  /** Closes every session of a revoked token; its agents cannot come back (the gate says 401). */
  closeSessionsOfToken(tokenId: string): void {
    this.revokedTokens.add(tokenId);
    for (const session of this.sessions) if (session.tokenId === tokenId) session.closeRevoked();
  }

  /** Closes every socket; their pending commands fail as the sockets close. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const closing = [...this.sessions].map((s) =>
      s.closeAndWait(CLOSE_GOING_AWAY, 'server shutting down', 'shutdown'),
    );
    await Promise.all(closing);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private closeSilentSessions(): void {
    const now = this.deps.clock.now();
    for (const session of this.sessions) {
      if (now - session.lastMessageAt > this.deps.service.presenceTtlMs) {
        void session.closeAndWait(
          CLOSE_HEARTBEAT_TIMEOUT,
          'missed heartbeats',
          'heartbeat_timeout',
        );
      }
    }
  }
}

class AgentSession implements CommandChannel {
  readonly connectionId = randomUUID();
  customCapabilities: readonly string[] | undefined;
  lastMessageAt: number;
  private agentId: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private disconnectReason: string | undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly ws: WebSocket,
    private readonly token: AgentTokenRow,
    private readonly deps: WebSocketTransportDeps,
    onClosed: () => void,
  ) {
    this.lastMessageAt = deps.clock.now();
    ws.on('message', (data, isBinary) => {
      this.lastMessageAt = deps.clock.now();
      if (!isBinary) {
        this.close(CLOSE_UNSUPPORTED_DATA, 'OpAMP needs binary frames', 'protocol_error');
        return;
      }
      // Messages of one agent are handled strictly in order.
      this.queue = this.queue
        .then(() => this.onMessage(data))
        .catch((error: unknown) => this.onBug(error));
    });
    ws.on('error', (error) => {
      deps.logger.warn('OpAMP WebSocket error', { agentId: this.agentId, error: error.message });
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        onClosed();
        const reason = this.disconnectReason ?? (code === 1009 ? 'message_too_large' : 'closed');
        deps.metrics.opampDisconnects.inc({ reason });
        this.queue = this.queue
          .then(() => this.onClosed())
          .catch((error: unknown) => this.onBug(error))
          .finally(resolve);
      });
    });
  }

  sendCommand(command: ControlCommand): boolean {
    if (!this.agentId || this.ws.readyState !== this.ws.OPEN) return false;
    const message = create(ServerToAgentSchema, {
      instanceUid: instanceUidFromString(this.agentId),
      customMessage: create(CustomMessageSchema, {
        capability: CONTROL_CAPABILITY,
        type: command.type,
        data: encodeControlData(command),
      }),
    });
    this.ws.send(websocketFrames.encodeServerToAgent(message));
    return true;
  }

  get tokenId(): string {
    return this.token.id;
  }

  closeRevoked(): void {
    this.close(CLOSE_POLICY_VIOLATION, 'agent token revoked', 'token_revoked');
  }

  close(code: number, reason: string, metricReason = 'closed'): void {
    this.disconnectReason ??= metricReason;
    this.ws.close(code, reason);
  }

  async closeAndWait(code: number, reason: string, metricReason: string): Promise<void> {
    this.close(code, reason, metricReason);
    const forced = setTimeout(() => this.ws.terminate(), 2000);
    await this.closed;
    clearTimeout(forced);
  }

  private async onMessage(data: RawData): Promise<void> {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const { deps } = this;
    let message: AgentToServer;
    let agentId: string;
    try {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      message = websocketFrames.decodeAgentToServer(bytes);
      agentId = deps.service.agentIdOf(message);
    } catch (error) {
      deps.logger.warn('closing OpAMP connection after a malformed message', {
        agentId: this.agentId,
        error: error instanceof Error ? error.message : String(error),
      });
      this.close(CLOSE_PROTOCOL_ERROR, 'malformed OpAMP message', 'protocol_error');
      return;
    }
    const firstMessage = this.agentId === undefined;
    let registered = false;
    if (firstMessage) {
      const admission = await deps.gate.onAgentIdentified({
        token: this.token,
        agentId,
        transport: 'websocket',
      });
      if (!admission.accepted) {
        this.refuse(message, admission.refusal);
        return;
      }
      if (this.ws.readyState !== this.ws.OPEN) return;
      registered = admission.registered;
      this.agentId = agentId;
      deps.registry
        .attach(agentId, this)
        ?.close(CLOSE_REPLACED, 'replaced by a newer connection', 'replaced');
    } else if (agentId !== this.agentId) {
      this.close(
        CLOSE_POLICY_VIOLATION,
        'instance_uid changed within a connection',
        'protocol_error',
      );
      return;
    }
    try {
      const reply = await deps.service.handle(
        {
          connectionId: this.connectionId,
          transport: 'websocket',
          agentTokenId: this.token.id,
          firstMessage,
          registered,
        },
        message,
      );
      if (message.agentDisconnect) {
        this.close(CLOSE_NORMAL, 'agent disconnected', 'agent_disconnect');
        return;
      }
      // Handled means stored: from now on the relay may trust these without a database read.
      const reported = message.customCapabilities?.capabilities;
      if (reported) this.customCapabilities = [...reported];
      if (reply && this.ws.readyState === this.ws.OPEN) {
        this.ws.send(websocketFrames.encodeServerToAgent(reply));
      }
    } catch (error) {
      // Not the agent's fault (e.g. the database is down): close so that it reconnects later.
      deps.logger.error('could not handle an OpAMP message', { agentId, error });
      this.close(CLOSE_INTERNAL_ERROR, 'server error', 'server_error');
    }
  }

  /**
   * Says why in OpAMP (`error_response`), then closes: the connection never speaks for the
   * agent, so the session that does (if any) is left alone.
   */
  private refuse(message: AgentToServer, refusal: Refusal): void {
    const reply = create(ServerToAgentSchema, {
      instanceUid: message.instanceUid,
      errorResponse: errorResponseOf(refusal),
    });
    this.ws.send(websocketFrames.encodeServerToAgent(reply));
    const code = refusal.status >= 500 ? CLOSE_INTERNAL_ERROR : CLOSE_POLICY_VIOLATION;
    this.close(code, refusal.problem.code, 'refused');
  }

  /** Last resort so that one connection's failure never becomes an unhandled rejection. */
  private onBug(error: unknown): void {
    this.deps.logger.error('OpAMP connection handler failed', { agentId: this.agentId, error });
    this.close(CLOSE_INTERNAL_ERROR, 'server error', 'server_error');
  }

  private async onClosed(): Promise<void> {
    const agentId = this.agentId;
    if (!agentId) return;
    const { deps } = this;
    if (!deps.registry.detach(agentId, this)) return; // a newer connection owns the agent now
    try {
      await deps.presence.markGone(agentId, this.connectionId);
    } catch (error) {
      deps.logger.error('could not clear presence', { agentId, error });
    }
    deps.relay.onAgentGone(agentId);
  }
}
