import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { OPAMP_PATH } from '@cybercorp/protocol';
import { isDatabaseUnavailable } from '../infra/database-errors.js';
import type { Logger } from '../infra/logger.js';
import { ApiError, problemOf, type Problem } from '../infra/problem.js';
import type { AgentTokenRow } from '../repositories/agent-tokens.js';
import type { AgentTokenService } from '../services/agent-token-service.js';

/** What the gate looks at: the request line and headers, before any OpAMP message is read. */
export interface ConnectionRequest {
  /** The path without its query string. */
  path: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
}

/** An answer instead of a connection: the status, its problem body and headers to send with it. */
export interface Refusal {
  status: number;
  problem: Problem;
  headers: Record<string, string>;
}

export type ConnectionDecision =
  { accepted: true; token: AgentTokenRow } | { accepted: false; refusal: Refusal };

export function connectionRequestOf(request: IncomingMessage): ConnectionRequest {
  return {
    path: new URL(request.url ?? '/', 'http://localhost').pathname,
    headers: request.headers,
    remoteAddress: request.socket.remoteAddress,
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
    },
  ) {}

  async onConnecting(request: ConnectionRequest): Promise<ConnectionDecision> {
    if (request.path !== OPAMP_PATH) {
      return refuse(new ApiError('not_found', `no OpAMP endpoint at ${request.path}`));
    }
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
