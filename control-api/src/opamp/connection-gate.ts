import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { OPAMP_PATH } from '@cybercorp/protocol';
import { isDatabaseUnavailable } from '../infra/database-errors.js';
import type { Logger } from '../infra/logger.js';
import { ApiError, problemOf, type Problem } from '../infra/problem.js';
import type { AgentTokenRow } from '../repositories/agent-tokens.js';
import type { AgentTokenService } from '../services/agent-token-service.js';
import type { ConnectionLease, ConnectionLimits } from './connection-limits.js';

/** What the gate looks at: the request line and headers, before any OpAMP message is read. */
export interface ConnectionRequest {
  /** The path without its query string. */
  path: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
  /** A WebSocket upgrade (counted against the connection caps) or one plain-HTTP poll. */
  transport: 'websocket' | 'http';
}

/** An answer instead of a connection: the status, its problem body and headers to send with it. */
export interface Refusal {
  status: number;
  problem: Problem;
  headers: Record<string, string>;
}

export type ConnectionDecision =
  | {
      accepted: true;
      token: AgentTokenRow;
      /** A WebSocket's place under the connection caps; the transport releases it on close. */
      lease?: ConnectionLease;
    }
  | { accepted: false; refusal: Refusal };

export function connectionRequestOf(
  request: IncomingMessage,
  transport: ConnectionRequest['transport'],
): ConnectionRequest {
  return {
    path: new URL(request.url ?? '/', 'http://localhost').pathname,
    headers: request.headers,
    remoteAddress: request.socket.remoteAddress,
    transport,
  };
}

export function refusalOf(error: ApiError): Refusal {
  const headers: Record<string, string> = {};
  if (error.status === 401) headers['WWW-Authenticate'] = 'Bearer';
  return { status: error.status, problem: problemOf(error), headers };
}

/**
 * The one decision on an OpAMP connection, for the WebSocket upgrade and for each plain-HTTP
 * POST alike (as opamp-go's `OnConnecting`): which agent token it carries, or why it is refused.
 * Admission rules (connection caps, an instance uid claimed by another token) belong here too.
 */
export class ConnectionGate {
  constructor(
    private readonly deps: {
      agentTokens: Pick<AgentTokenService, 'authenticate'>;
      logger: Logger;
      /** Caps on WebSockets; without it they are not limited. */
      limits?: ConnectionLimits;
      /** Told of every refusal for a full instance, e.g. to count it. */
      onCapacityRefusal?: (reason: 'connections' | 'handshakes') => void;
    },
  ) {}

  async onConnecting(request: ConnectionRequest): Promise<ConnectionDecision> {
    if (request.path !== OPAMP_PATH) {
      return refuse(new ApiError('not_found', `no OpAMP endpoint at ${request.path}`));
    }
    // Capacity first: a full instance refuses cheaply, without a token lookup in the database.
    let lease: ConnectionLease | undefined;
    if (request.transport === 'websocket' && this.deps.limits) {
      const admission = this.deps.limits.admit();
      if (!admission.admitted) {
        this.deps.onCapacityRefusal?.(admission.reason);
        return refuseForCapacity(admission.reason, admission.retryAfterSeconds);
      }
      lease = admission.lease;
    }
    const decision = await this.authenticate(request);
    if (!decision.accepted) lease?.release();
    else if (lease) decision.lease = lease;
    return decision;
  }

  private async authenticate(request: ConnectionRequest): Promise<ConnectionDecision> {
    let token: AgentTokenRow | null;
    try {
      token = await this.deps.agentTokens.authenticate(request.headers.authorization);
    } catch (error) {
      const unavailable = isDatabaseUnavailable(error);
      if (unavailable) this.deps.logger.warn('cannot check an agent token: database unavailable');
      else this.deps.logger.error('agent authentication failed', { err: error });
      return refuse(
        new ApiError(
          unavailable ? 'database_unavailable' : 'service_unavailable',
          'cannot check agent tokens right now',
        ),
      );
    }
    if (!token) return refuse(new ApiError('unauthorized', 'an agent token is required'));
    return { accepted: true, token };
  }
}

function refuse(error: ApiError): ConnectionDecision {
  return { accepted: false, refusal: refusalOf(error) };
}

function refuseForCapacity(
  reason: 'connections' | 'handshakes',
  retryAfterSeconds: number,
): ConnectionDecision {
  const detail =
    reason === 'connections'
      ? 'this instance holds as many OpAMP connections as it accepts'
      : 'too many OpAMP handshakes in progress';
  const refusal = refusalOf(new ApiError('service_unavailable', detail));
  refusal.headers['Retry-After'] = String(retryAfterSeconds);
  return { accepted: false, refusal };
}
