import { randomUUID } from 'node:crypto';
import {
  AgentCapabilities,
  CONTROL_CAPABILITY,
  CustomMessageSchema,
  ServerToAgentSchema,
  create,
  encodeControlData,
  instanceUidFromString,
  websocketFrames,
  type AgentToServer,
  type ControlCommand,
  type ServerToAgent,
} from '@cybercorp/protocol';
import { LogThrottle } from '@cybercorp/logging';
import type { RawData, WebSocket } from 'ws';
import type { TrustedProxies } from '../infra/client-ip.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import type { AgentTokenRow } from '../repositories/agent-tokens.js';
import type { CommandRelay } from '../services/command-relay.js';
import type { Presence } from '../services/presence.js';
import { errorResponseOf, type ConnectionGate, type Refusal } from './connection-gate.js';
import type { CommandChannel, ConnectionRegistry } from './connection-registry.js';
import { inflateInline } from './inline-inflate.js';
import { MessageRateLimit } from './message-rate-limit.js';
import type { OpampService } from './opamp-service.js';
import { serverErrorReply } from './server-errors.js';
import {
  CLOSE_INTERNAL_ERROR,
  CLOSE_NORMAL,
  CLOSE_POLICY_VIOLATION,
  CLOSE_REPLACED,
  CLOSE_UNSUPPORTED_DATA,
} from './close-codes.js';

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
  /** OPAMP_MESSAGES_PER_MINUTE for each connection. */
  messagesPerMinute: number;
  /** Whose X-Forwarded-Host/-Proto name the URL an agent used (TRUSTED_PROXIES). */
  trustedProxies: TrustedProxies;
}

const MALFORMED_LOG_INTERVAL_MS = 60_000;
const REPORTS_HEARTBEAT = BigInt(AgentCapabilities.AgentCapabilities_ReportsHeartbeat);

/** One agent's WebSocket: its OpAMP messages, its commands, its heartbeat and its close. */
export class AgentSession implements CommandChannel {
  readonly connectionId = randomUUID();
  customCapabilities: readonly string[] | undefined;
  lastMessageAt: number;
  lastPingAt: number;
  lastPongAt: number;
  /** Capabilities of the latest message that named them (0 until the first message). */
  private agentCapabilities = 0n;
  private agentId: string | undefined;
  private readonly rateLimit: MessageRateLimit;
  /** Made on the first malformed message: most sessions never send one. */
  private malformedLog: LogThrottle | undefined;
  private queue: Promise<void> = Promise.resolve();
  private disconnectReason: string | undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly ws: WebSocket,
    private readonly token: AgentTokenRow,
    private readonly opampEndpoint: string | undefined,
    private readonly deps: WebSocketTransportDeps,
    onClosed: () => void,
  ) {
    const now = deps.clock.now();
    this.lastMessageAt = now;
    this.lastPingAt = now;
    this.lastPongAt = now;
    this.rateLimit = new MessageRateLimit(deps.messagesPerMinute);
    inflateInline(ws);
    ws.on('pong', () => this.onPong());
    ws.on('message', (data, isBinary) => {
      this.lastMessageAt = deps.clock.now();
      if (!this.admitMessage()) return;
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
      deps.logger.warn('OpAMP WebSocket error', { agentId: this.agentId, err: error });
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        onClosed();
        deps.service.connectionClosed(this.connectionId);
        const reason = this.disconnectReason ?? (code === 1009 ? 'message_too_large' : 'closed');
        deps.metrics.opampDisconnects.inc({ reason });
        this.queue = this.queue
          .then(() => this.onClosed(reason))
          .catch((error: unknown) => this.onBug(error))
          .finally(resolve);
      });
    });
  }

  /** Whether silence means a dead agent: true unless it said it sends no heartbeats. */
  get heartbeatsExpected(): boolean {
    return this.agentId === undefined || (this.agentCapabilities & REPORTS_HEARTBEAT) !== 0n;
  }

  ping(now: number): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.lastPingAt = now;
    this.ws.ping();
  }

  private onPong(): void {
    this.lastPongAt = this.deps.clock.now();
    const agentId = this.agentId;
    if (agentId === undefined || this.heartbeatsExpected) return;
    // A silent agent's pong is its only sign of life: it keeps the agent online.
    this.deps.service.keepAlive(agentId, this.connectionId).catch((error: unknown) => {
      this.deps.logger.warn('could not renew the presence of a silent agent', {
        agentId,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  /**
   * OPAMP_MESSAGES_PER_MINUTE: the first message over the limit is answered with UNAVAILABLE and
   * retry_info (OpAMP's throttling); later ones are dropped, and a connection that keeps on
   * sending is closed with 1008. False when the message must not be handled.
   */
  private admitMessage(): boolean {
    const verdict = this.rateLimit.take(this.deps.clock.now());
    if (verdict.kind === 'allowed') return true;
    this.deps.metrics.opampRejectedMessages.inc({ reason: 'rate_limited' });
    if (verdict.kind === 'warn') {
      this.deps.logger.warn('OpAMP connection over its message rate limit', {
        agentId: this.agentId,
        messagesPerMinute: this.deps.messagesPerMinute,
      });
      this.sendReply(
        serverErrorReply(
          {
            type: 'unavailable',
            message: `more than ${this.deps.messagesPerMinute} messages in a minute`,
            retryAfterMs: verdict.retryAfterMs,
          },
          this.instanceUid(),
        ),
      );
    } else if (verdict.kind === 'close') {
      this.close(CLOSE_POLICY_VIOLATION, 'message rate limit exceeded', 'rate_limited');
    }
    return false;
  }

  private instanceUid(): Uint8Array | undefined {
    return this.agentId === undefined ? undefined : instanceUidFromString(this.agentId);
  }

  private sendReply(message: ServerToAgent): void {
    if (this.ws.readyState === this.ws.OPEN) {
      this.ws.send(websocketFrames.encodeServerToAgent(message));
    }
  }

  /** Writes the agent's presence again (Redis came back, possibly without it); false if it failed. */
  async renewPresence(): Promise<boolean> {
    const agentId = this.agentId;
    if (agentId === undefined || this.deps.registry.get(agentId) !== this) return true;
    try {
      await this.deps.service.keepAlive(agentId, this.connectionId);
      return true;
    } catch {
      return false;
    }
  }

  sendCommand(command: ControlCommand, onUnsent?: () => void): boolean {
    if (!this.agentId || this.ws.readyState !== this.ws.OPEN) return false;
    const message = create(ServerToAgentSchema, {
      instanceUid: instanceUidFromString(this.agentId),
      customMessage: create(CustomMessageSchema, {
        capability: CONTROL_CAPABILITY,
        type: command.type,
        data: encodeControlData(command),
      }),
    });
    this.ws.send(websocketFrames.encodeServerToAgent(message), (error) => {
      if (error) onUnsent?.();
    });
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
      // The spec's Bad Request: answer BAD_REQUEST (the agent must not retry it) and keep the
      // connection; the rate limit bounds an agent that sends nothing else.
      const detail = error instanceof Error ? error.message : String(error);
      deps.metrics.opampRejectedMessages.inc({ reason: 'malformed' });
      this.malformedLog ??= new LogThrottle(MALFORMED_LOG_INTERVAL_MS);
      const line = this.malformedLog.take(this.connectionId, deps.clock.now());
      if (line) {
        deps.logger.warn('malformed OpAMP message', {
          agentId: this.agentId,
          err: error,
          suppressedSinceLastLine: line.suppressed,
        });
      }
      this.sendReply(
        serverErrorReply(
          { type: 'bad_request', message: `not an AgentToServer message: ${detail}` },
          this.instanceUid(),
        ),
      );
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
    if (message.capabilities !== 0n) this.agentCapabilities = message.capabilities;
    try {
      const reply = await deps.service.handle(
        {
          agentId,
          connectionId: this.connectionId,
          transport: 'websocket',
          agentTokenId: this.token.id,
          firstMessage,
          opampEndpoint: this.opampEndpoint,
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
      if (reply) this.sendReply(reply);
    } catch (error) {
      // Not the agent's fault (e.g. the database is down): close so that it reconnects later.
      deps.logger.error('could not handle an OpAMP message', { agentId, err: error });
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
    this.deps.logger.error('OpAMP connection handler failed', {
      agentId: this.agentId,
      err: error,
    });
    this.close(CLOSE_INTERNAL_ERROR, 'server error', 'server_error');
  }

  private async onClosed(reason: string): Promise<void> {
    const agentId = this.agentId;
    if (!agentId) return;
    const { deps } = this;
    if (!deps.registry.detach(agentId, this)) return; // a newer connection owns the agent now
    deps.service.sessionEnded(agentId, reason);
    try {
      await deps.presence.markGone(agentId, this.connectionId);
    } catch (error) {
      deps.logger.error('could not clear presence', { agentId, err: error });
    }
    deps.relay.onAgentGone(agentId);
  }
}
