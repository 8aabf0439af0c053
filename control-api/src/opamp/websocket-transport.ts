import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type PerMessageDeflateOptions } from 'ws';
import type { AgentTokenRow } from '../repositories/agent-tokens.js';
import { opampEndpointOf } from './opamp-endpoint.js';
import { AgentSession, type WebSocketTransportDeps } from './agent-session.js';
import {
  CLOSE_HEARTBEAT_TIMEOUT,
  CLOSE_SERVICE_RESTART,
  MAX_OPAMP_MESSAGE_BYTES,
} from './close-codes.js';

export * from './close-codes.js';
export type { WebSocketTransportDeps } from './agent-session.js';

/**
 * permessage-deflate with bounded memory: a 1 KB server window and a small zlib memLevel, no
 * context kept between messages, at most 10 zlib jobs at once, and only messages of 1 KB or more
 * compressed (heartbeats and commands are smaller and go out as they are). zlib objects are made
 * on the first compressed message, so an agent that sends only small ones costs none. How far a
 * client compresses is its choice: our agent offers a 1 KB window too.
 */
export const OPAMP_PER_MESSAGE_DEFLATE: PerMessageDeflateOptions = {
  serverMaxWindowBits: 10,
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  zlibDeflateOptions: { memLevel: 5, level: 3 },
  zlibInflateOptions: { chunkSize: 16 * 1024 },
  concurrencyLimit: 10,
  threshold: 1024,
};

/** OpAMP over WebSocket. `accept` gets only upgrades the connection gate let through. */
export class WebSocketTransport {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_OPAMP_MESSAGE_BYTES,
    perMessageDeflate: OPAMP_PER_MESSAGE_DEFLATE,
  });
  private readonly sessions = new Set<AgentSession>();
  /** Revoked while this instance runs: an upgrade authenticated just before is closed too. */
  private readonly revokedTokens = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;
  private stopping = false;

  constructor(private readonly deps: WebSocketTransportDeps) {
    const sweepMs = Math.max(100, (deps.heartbeatSeconds * 1000) / 2);
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  /** `onEstablished` is called once the WebSocket is open (the handshake is over). */
  accept(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    token: AgentTokenRow,
    onEstablished: () => void = () => undefined,
  ): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const opampEndpoint = opampEndpointOf(request, 'websocket', this.deps.trustedProxies);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      onEstablished();
      const session = new AgentSession(ws, token, opampEndpoint, this.deps, () =>
        this.sessions.delete(session),
      );
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

  /**
   * Writes the presence of every agent connected here again, e.g. when Redis is back after an
   * outage (a restarted Redis has forgotten them), instead of waiting for each one's next
   * heartbeat. Resolves to how many could not be written.
   */
  async renewPresence(): Promise<number> {
    const renewed = await Promise.all([...this.sessions].map((s) => s.renewPresence()));
    return renewed.filter((ok) => !ok).length;
  }

  /**
   * Shutdown: takes no new agent from now on (see `closing`) and closes every socket, with 1012
   * (service restart); their pending commands fail as the sockets close.
   */
  async close(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweeper);
    // A session whose handshake was already under way when the shutdown began joins late.
    while (this.sessions.size > 0) {
      await Promise.all(
        [...this.sessions].map((s) =>
          s.closeAndWait(CLOSE_SERVICE_RESTART, 'server shutting down', 'shutdown'),
        ),
      );
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /**
   * True once shutdown began. New upgrades are then dropped unanswered: a gateway takes that
   * as a failed upstream and passes the upgrade to another instance, where an answer (even a
   * refusal) would go back to the agent, which would then wait its backoff.
   */
  get closing(): boolean {
    return this.stopping;
  }

  /**
   * Keep-alive: every session is pinged once per heartbeat interval. An agent that declares
   * ReportsHeartbeat (or has not sent its first message yet) must keep sending messages; one
   * that does not is kept as long as it answers pings, as the spec allows such agents to be
   * silent. Either way, a session with nothing from its peer for the presence TTL is closed.
   */
  private sweep(): void {
    const now = this.deps.clock.now();
    const ttl = this.deps.service.presenceTtlMs;
    const pingEveryMs = this.deps.heartbeatSeconds * 1000;
    for (const session of this.sessions) {
      if (session.heartbeatsExpected) {
        if (now - session.lastMessageAt > ttl) {
          void session.closeAndWait(
            CLOSE_HEARTBEAT_TIMEOUT,
            'missed heartbeats',
            'heartbeat_timeout',
          );
          continue;
        }
      } else if (now - Math.max(session.lastMessageAt, session.lastPongAt) > ttl) {
        void session.closeAndWait(
          CLOSE_HEARTBEAT_TIMEOUT,
          'keep-alive pings unanswered',
          'ping_timeout',
        );
        continue;
      }
      if (now - session.lastPingAt >= pingEveryMs) session.ping(now);
    }
  }
}
