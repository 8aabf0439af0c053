import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  OPAMP_PATH,
  ServerErrorResponseSchema,
  ServerErrorResponseType,
  create,
} from '@cybercorp/protocol';
import { clientIp, type TrustedProxies } from '../infra/client-ip.js';
import type { Clock } from '../infra/clock.js';
import { isDatabaseUnavailable } from '../infra/database-errors.js';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import { ApiError, problemOf, type Problem } from '../infra/problem.js';
import type { AgentTokenRow } from '../repositories/agent-tokens.js';
import type { ClaimOutcome } from '../repositories/agents.js';
import type { AgentTokenService } from '../services/agent-token-service.js';
import type { ConnectionLease, ConnectionLimits } from './connection-limits.js';
import type { Transport } from '../services/presence.js';

/** What the gate looks at: the request line and headers, before any OpAMP message is read. */
export interface ConnectionRequest {
  /** The path without its query string. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The agent's address (infra/client-ip.ts decides it). */
  clientIp: string;
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

/** The agent a connection speaks for, once its first message names the instance uid. */
export interface AgentIdentity {
  token: AgentTokenRow;
  agentId: string;
  transport: Transport;
}

export type AdmissionDecision =
  /** `registered`: the uid is new to the fleet (or was decommissioned) and now the token's. */
  { accepted: true; registered: boolean } | { accepted: false; refusal: Refusal };

/** A refused identity is logged once per (uid, token) in this window, however often it retries. */
const CONFLICT_LOG_WINDOW_MS = 10 * 60 * 1000;
const CONFLICT_LOG_ENTRIES = 10_000;

export function connectionRequestOf(
  request: IncomingMessage,
  transport: ConnectionRequest['transport'],
  trustedProxies: TrustedProxies,
): ConnectionRequest {
  return {
    path: new URL(request.url ?? '/', 'http://localhost').pathname,
    headers: request.headers,
    clientIp: clientIp(request, trustedProxies),
    transport,
  };
}

export function refusalOf(error: ApiError): Refusal {
  const headers: Record<string, string> = {};
  if (error.status === 401) headers['WWW-Authenticate'] = 'Bearer';
  return { status: error.status, problem: problemOf(error), headers };
}

/** The OpAMP form of a refusal, for a transport that has already upgraded to OpAMP. */
export function errorResponseOf(refusal: Refusal) {
  return create(ServerErrorResponseSchema, {
    type:
      refusal.status >= 500
        ? ServerErrorResponseType.ServerErrorResponseType_Unavailable
        : ServerErrorResponseType.ServerErrorResponseType_BadRequest,
    errorMessage: `${refusal.problem.code}: ${refusal.problem.detail}`,
  });
}

/**
 * The one decision on an OpAMP connection, for the WebSocket upgrade and for each plain-HTTP
 * POST alike (as opamp-go's `OnConnecting`): which agent token it carries, or why it is refused.
 * Admission rules (connection caps, an instance uid claimed by another token) belong here too.
 */
export class ConnectionGate {
  private readonly conflictsLogged = new Map<string, number>();

  constructor(
    private readonly deps: {
      agentTokens: Pick<AgentTokenService, 'authenticate' | 'claimAgent'>;
      metrics: Pick<Metrics, 'opampIdentityConflicts'>;
      clock: Clock;
      logger: Logger;
      /** Caps on WebSockets; without it they are not limited. */
      limits?: ConnectionLimits;
      /** Told of every refusal for a full instance, e.g. to count it. */
      onCapacityRefusal?: (reason: 'connections' | 'handshakes') => void;
    },
  ) {}

  /**
   * The second half of the decision, on the first message (the uid is not in the upgrade
   * request): an instance uid belongs to the token that registered it first, and a token
   * registers at most its `maxAgents`. The agent already connected under that uid is not
   * touched by a refusal.
   */
  async onAgentIdentified(identity: AgentIdentity): Promise<AdmissionDecision> {
    let outcome: ClaimOutcome;
    try {
      outcome = await this.deps.agentTokens.claimAgent(
        identity.token,
        identity.agentId,
        identity.transport,
      );
    } catch (error) {
      const unavailable = isDatabaseUnavailable(error);
      if (unavailable)
        this.deps.logger.warn('cannot check an agent identity: database unavailable');
      else this.deps.logger.error('agent identity check failed', { error });
      return refuse(
        new ApiError(
          unavailable ? 'database_unavailable' : 'service_unavailable',
          'cannot check agent identities right now',
        ),
      );
    }
    switch (outcome.kind) {
      case 'owned':
        return { accepted: true, registered: false };
      case 'registered':
        return { accepted: true, registered: true };
      case 'token_revoked':
        return refuse(new ApiError('unauthorized', 'the agent token is revoked'));
      case 'owned_by_other':
        this.noteConflict(
          identity,
          'uid_claimed',
          'refused an instance uid registered with another agent token',
          {
            ownerTokenId: outcome.ownerTokenId,
          },
        );
        return refuse(
          new ApiError(
            'agent_identity_conflict',
            `instance uid ${identity.agentId} is registered with another agent token`,
          ),
        );
      case 'limit_reached':
        this.noteConflict(identity, 'agent_limit', "refused an agent over its token's maxAgents", {
          maxAgents: outcome.maxAgents,
        });
        return refuse(
          new ApiError(
            'agent_limit_reached',
            `the agent token already has its maximum of ${outcome.maxAgents} agent(s)`,
          ),
        );
    }
  }

  /** Counted every time; logged once per (uid, token, reason) and window. */
  private noteConflict(
    identity: AgentIdentity,
    reason: 'uid_claimed' | 'agent_limit',
    message: string,
    fields: Record<string, unknown>,
  ): void {
    this.deps.metrics.opampIdentityConflicts.inc({ reason });
    const key = `${reason} ${identity.agentId} ${identity.token.id}`;
    const now = this.deps.clock.now();
    const last = this.conflictsLogged.get(key);
    if (last !== undefined && now - last < CONFLICT_LOG_WINDOW_MS) return;
    if (this.conflictsLogged.size >= CONFLICT_LOG_ENTRIES) this.conflictsLogged.clear();
    this.conflictsLogged.set(key, now);
    this.deps.logger.warn(message, {
      agentId: identity.agentId,
      agentTokenId: identity.token.id,
      agentTokenName: identity.token.name,
      transport: identity.transport,
      ...fields,
    });
  }

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

function refuse(error: ApiError): { accepted: false; refusal: Refusal } {
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
