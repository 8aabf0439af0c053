import {
  OPAMP_HTTP_CONTENT_TYPE,
  decodeAgentToServer,
  encodeServerToAgent,
  type AgentToServer,
} from '@cybercorp/protocol';
import type { Request, Response } from 'express';
import type { TrustedProxies } from '../infra/client-ip.js';
import type { Clock } from '../infra/clock.js';
import type { Metrics } from '../infra/metrics.js';
import { ApiError, PROBLEM_CONTENT_TYPE } from '../infra/problem.js';
import { connectionRequestOf, type ConnectionGate, type Refusal } from './connection-gate.js';
import { opampEndpointOf } from './opamp-endpoint.js';
import type { OpampService } from './opamp-service.js';
import { serverErrorReply } from './server-errors.js';

/**
 * OpAMP over plain HTTP: each POST carries one AgentToServer and gets one ServerToAgent.
 * Polling agents cannot receive commands at any moment, so they are inventoried only. Every POST
 * passes the same connection gate as a WebSocket upgrade.
 */
export class HttpTransport {
  /** Polling agents seen recently, for the connections gauge and the connects counter. */
  private readonly lastPoll = new Map<string, number>();

  constructor(
    private readonly deps: {
      service: OpampService;
      gate: ConnectionGate;
      metrics: Metrics;
      clock: Clock;
      trustedProxies: TrustedProxies;
    },
  ) {}

  readonly handle = async (req: Request, res: Response): Promise<void> => {
    const { deps } = this;
    const decision = await deps.gate.onConnecting(
      connectionRequestOf(req, 'http', deps.trustedProxies),
    );
    if (!decision.accepted) {
      sendRefusal(res, decision.refusal);
      return;
    }
    const { token } = decision;
    if (!req.is(OPAMP_HTTP_CONTENT_TYPE)) {
      throw new ApiError(
        'unsupported_media_type',
        `OpAMP over HTTP needs ${OPAMP_HTTP_CONTENT_TYPE}`,
      );
    }
    const body: unknown = req.body;
    let message: AgentToServer;
    let agentId: string;
    try {
      if (!Buffer.isBuffer(body)) throw new Error('empty body');
      message = decodeAgentToServer(body);
      agentId = deps.service.agentIdOf(message);
    } catch (error) {
      // The spec's Bad Request, in the HTTP transport's terms: a 400 carrying the ServerToAgent.
      deps.metrics.opampRejectedMessages.inc({ reason: 'malformed' });
      const detail = error instanceof Error ? error.message : String(error);
      const reply = serverErrorReply({
        type: 'bad_request',
        message: `not an AgentToServer message: ${detail}`,
      });
      res.status(400).setHeader('Content-Type', OPAMP_HTTP_CONTENT_TYPE);
      res.end(Buffer.from(encodeServerToAgent(reply)));
      return;
    }
    const admission = await deps.gate.onAgentIdentified({ token, agentId, transport: 'http' });
    if (!admission.accepted) {
      sendRefusal(res, admission.refusal);
      return;
    }
    this.notePoll(agentId, message.agentDisconnect !== undefined);
    const reply = await deps.service.handle(
      {
        agentId,
        connectionId: `http:${agentId}`,
        transport: 'http',
        agentTokenId: token.id,
        firstMessage: true,
        opampEndpoint: opampEndpointOf(req, 'http', deps.trustedProxies),
        registered: admission.registered,
      },
      message,
    );
    res.status(200).setHeader('Content-Type', OPAMP_HTTP_CONTENT_TYPE);
    res.end(reply ? Buffer.from(encodeServerToAgent(reply)) : Buffer.alloc(0));
  };

  activeCount(): number {
    const now = this.deps.clock.now();
    let count = 0;
    for (const [agentId, at] of this.lastPoll) {
      if (now - at <= this.deps.service.presenceTtlMs) count++;
      else this.lastPoll.delete(agentId);
    }
    return count;
  }

  private notePoll(agentId: string, disconnecting: boolean): void {
    const now = this.deps.clock.now();
    const previous = this.lastPoll.get(agentId);
    const wasActive = previous !== undefined && now - previous <= this.deps.service.presenceTtlMs;
    if (disconnecting) {
      if (wasActive) this.deps.metrics.opampDisconnects.inc({ reason: 'agent_disconnect' });
      this.lastPoll.delete(agentId);
      return;
    }
    if (!wasActive) this.deps.metrics.opampConnects.inc();
    this.lastPoll.set(agentId, now);
  }
}

function sendRefusal(res: Response, refusal: Refusal): void {
  res.status(refusal.status).set(refusal.headers).type(PROBLEM_CONTENT_TYPE);
  res.send(JSON.stringify(refusal.problem));
}
