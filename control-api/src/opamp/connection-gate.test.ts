import { ServerErrorResponseType } from '@cybercorp/protocol';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { TrustedProxies } from '../infra/client-ip.js';
import type { Logger } from '../infra/logger.js';
import type { AgentTokenRow } from '../repositories/agent-tokens.js';
import type { ClaimOutcome } from '../repositories/agents.js';
import {
  ConnectionGate,
  connectionRequestOf,
  errorResponseOf,
  type AgentIdentity,
  type ConnectionRequest,
} from './connection-gate.js';
import { ConnectionLimits } from './connection-limits.js';
import { recordingLogger } from '../test-support/recording-logger.js';

const AGENT_TOKEN: AgentTokenRow = {
  id: '6f1c2b1e-0a51-4f0e-9a43-1d2f3c4b5a69',
  name: 'host-1',
  createdBy: 'admin',
  createdAt: new Date('2026-01-01T00:00:00.000Z'),
  maxAgents: 1,
};

/** Knows one agent token; anything else (a user JWT, nothing) is no agent token. */
const agentTokens = {
  authenticate: async (authorization: string | undefined) =>
    authorization === 'Bearer cca_valid' ? AGENT_TOKEN : null,
};

type GateDeps = ConstructorParameters<typeof ConnectionGate>[0];

/** A gate over these agent tokens, whose uid claims all come to `claim` (default: owned). */
function gateOf(
  tokens: Partial<GateDeps['agentTokens']>,
  logger: Logger = recordingLogger(),
  clock = { now: () => 0 },
  more: Pick<GateDeps, 'limits' | 'onCapacityRefusal'> = {},
) {
  const opampIdentityConflicts = new Counter({
    name: 'conflicts',
    help: 'test',
    labelNames: ['reason'],
    registers: [],
  });
  const gate = new ConnectionGate({
    agentTokens: {
      authenticate: agentTokens.authenticate,
      claimAgent: async (): Promise<ClaimOutcome> => ({ kind: 'owned' }),
      ...tokens,
    },
    metrics: { opampIdentityConflicts },
    clock,
    logger,
    ...more,
  });
  const conflicts = async (reason: string) =>
    (await opampIdentityConflicts.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  return { gate, conflicts };
}

const IDENTITY: AgentIdentity = {
  token: AGENT_TOKEN,
  agentId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  transport: 'websocket',
};

const request = (overrides: Partial<ConnectionRequest> = {}): ConnectionRequest => ({
  path: '/v1/opamp',
  headers: { authorization: 'Bearer cca_valid', host: '127.0.0.1:8080' },
  clientIp: '127.0.0.1',
  transport: 'websocket',
  ...overrides,
});

describe('ConnectionGate', () => {
  const { gate } = gateOf({});

  it('accepts a valid agent token and names it', async () => {
    expect(await gate.onConnecting(request())).toEqual({ accepted: true, token: AGENT_TOKEN });
  });

  it('refuses a request without an agent token with 401 and a Bearer challenge', async () => {
    const decision = await gate.onConnecting(request({ headers: { host: '127.0.0.1:8080' } }));
    expect(decision).toEqual({
      accepted: false,
      refusal: {
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer' },
        problem: {
          type: 'https://cybercorp.dev/problems/unauthorized',
          title: 'Unauthorized',
          status: 401,
          detail: 'an agent token is required',
          code: 'unauthorized',
        },
      },
    });
  });

  it('refuses a user access token like no token at all', async () => {
    const decision = await gate.onConnecting(
      request({ headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig' } }),
    );
    expect(decision).toMatchObject({ accepted: false, refusal: { status: 401 } });
  });

  it('answers 404 for any other path without looking at the credentials', async () => {
    let asked = false;
    const { gate: watching } = gateOf({
      authenticate: async (authorization) => {
        asked = true;
        return agentTokens.authenticate(authorization);
      },
    });
    const decision = await watching.onConnecting(request({ path: '/elsewhere' }));
    expect(decision).toMatchObject({
      accepted: false,
      refusal: { status: 404, headers: {}, problem: { code: 'not_found' } },
    });
    expect(asked).toBe(false);
  });

  it('answers 503 when the tokens cannot be checked, and logs why without the secret', async () => {
    const logger = recordingLogger();
    const { gate: failing } = gateOf(
      {
        authenticate: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        },
      },
      logger,
    );
    const decision = await failing.onConnecting(request());
    expect(decision).toMatchObject({
      accepted: false,
      refusal: { status: 503, headers: {}, problem: { code: 'service_unavailable' } },
    });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain('agent authentication failed');
    expect(logger.lines[0]).not.toContain('cca_valid');
  });

  describe('admission under the connection caps', () => {
    const limitedGate = (maxConnections: number, maxPendingUpgrades = 100) => {
      const refusals: string[] = [];
      const limits = new ConnectionLimits({ maxConnections, maxPendingUpgrades });
      const { gate } = gateOf({}, recordingLogger(), undefined, {
        limits,
        onCapacityRefusal: (reason) => refusals.push(reason),
      });
      return { gate, limits, refusals };
    };

    it('admits up to the cap, then answers 503 with Retry-After before checking the token', async () => {
      const { gate, limits, refusals } = limitedGate(2);
      const first = await gate.onConnecting(request());
      const second = await gate.onConnecting(request());
      expect(first).toMatchObject({ accepted: true, token: AGENT_TOKEN });
      expect(second).toMatchObject({ accepted: true, token: AGENT_TOKEN });
      const third = await gate.onConnecting(request({ headers: {} }));
      expect(third).toEqual({
        accepted: false,
        refusal: {
          status: 503,
          headers: { 'Retry-After': '30' },
          problem: expect.objectContaining({ code: 'service_unavailable' }) as unknown,
        },
      });
      expect(refusals).toEqual(['connections']);
      expect(limits.counts).toEqual({ pending: 2, open: 0 });
    });

    it('frees the place when the connection ends, and when the token is refused', async () => {
      const { gate, limits } = limitedGate(1);
      const refused = await gate.onConnecting(request({ headers: {} }));
      expect(refused).toMatchObject({ accepted: false, refusal: { status: 401 } });
      expect(limits.counts).toEqual({ pending: 0, open: 0 });

      const decision = await gate.onConnecting(request());
      if (!decision.accepted || !decision.lease) throw new Error('expected a lease');
      decision.lease.established();
      expect(limits.counts).toEqual({ pending: 0, open: 1 });
      expect(await gate.onConnecting(request())).toMatchObject({ refusal: { status: 503 } });
      decision.lease.release();
      decision.lease.release(); // idempotent: the count never goes below the truth
      expect(limits.counts).toEqual({ pending: 0, open: 0 });
      expect(await gate.onConnecting(request())).toMatchObject({ accepted: true });
    });

    it('caps handshakes in progress separately, with a shorter Retry-After', async () => {
      const { gate, refusals } = limitedGate(100, 2);
      await gate.onConnecting(request());
      await gate.onConnecting(request());
      expect(await gate.onConnecting(request())).toMatchObject({
        accepted: false,
        refusal: { status: 503, headers: { 'Retry-After': '5' } },
      });
      expect(refusals).toEqual(['handshakes']);
    });

    it('counts a handshake from the moment it is admitted, so parallel upgrades cannot overshoot', async () => {
      const { gate } = limitedGate(3);
      const decisions = await Promise.all(
        Array.from({ length: 10 }, () => gate.onConnecting(request())),
      );
      expect(decisions.filter((d) => d.accepted)).toHaveLength(3);
    });

    it('never limits plain-HTTP polls, which hold no connection', async () => {
      const { gate, limits } = limitedGate(1);
      await gate.onConnecting(request());
      const poll = await gate.onConnecting(request({ transport: 'http' }));
      expect(poll).toEqual({ accepted: true, token: AGENT_TOKEN });
      expect(limits.counts).toEqual({ pending: 1, open: 0 });
    });
  });
});

describe('ConnectionGate.onAgentIdentified', () => {
  const claiming = (outcome: ClaimOutcome, logger?: Logger, clock?: { now: () => number }) =>
    gateOf({ claimAgent: async () => outcome }, logger, clock);

  it('accepts the uid of its own token, and a new uid it registers', async () => {
    expect(await claiming({ kind: 'owned' }).gate.onAgentIdentified(IDENTITY)).toEqual({
      accepted: true,
      registered: false,
    });
    expect(await claiming({ kind: 'registered' }).gate.onAgentIdentified(IDENTITY)).toEqual({
      accepted: true,
      registered: true,
    });
  });

  it('refuses a uid registered with another token with 409, counted each time, logged once', async () => {
    const logger = recordingLogger();
    let now = 0;
    const { gate, conflicts } = claiming(
      { kind: 'owned_by_other', ownerTokenId: 'f00d0000-0000-4000-8000-000000000001' },
      logger,
      { now: () => now },
    );
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(await gate.onAgentIdentified(IDENTITY)).toMatchObject({
        accepted: false,
        refusal: { status: 409, problem: { code: 'agent_identity_conflict' } },
      });
    }
    expect(await conflicts('uid_claimed')).toBe(3);
    expect(logger.lines).toHaveLength(1);
    expect(JSON.parse(logger.lines[0]!)).toMatchObject({
      agentId: IDENTITY.agentId,
      agentTokenId: AGENT_TOKEN.id,
      ownerTokenId: 'f00d0000-0000-4000-8000-000000000001',
    });
    now += 11 * 60 * 1000;
    await gate.onAgentIdentified(IDENTITY);
    expect(logger.lines).toHaveLength(2);
  });

  it('refuses a new uid over the token cap with 409 agent_limit_reached, counted', async () => {
    const { gate, conflicts } = claiming({ kind: 'limit_reached', maxAgents: 1 });
    expect(await gate.onAgentIdentified(IDENTITY)).toMatchObject({
      accepted: false,
      refusal: { status: 409, problem: { code: 'agent_limit_reached' } },
    });
    expect(await conflicts('agent_limit')).toBe(1);
    expect(await conflicts('uid_claimed')).toBe(0);
  });

  it('refuses a token revoked since the upgrade with 401', async () => {
    expect(
      await claiming({ kind: 'token_revoked' }).gate.onAgentIdentified(IDENTITY),
    ).toMatchObject({
      accepted: false,
      refusal: { status: 401, problem: { code: 'unauthorized' } },
    });
  });

  it('answers 503 when the claim cannot be checked', async () => {
    const { gate } = gateOf({
      claimAgent: async () => {
        throw new Error('boom');
      },
    });
    expect(await gate.onAgentIdentified(IDENTITY)).toMatchObject({
      accepted: false,
      refusal: { status: 503, problem: { code: 'service_unavailable' } },
    });
  });
});

describe('connectionRequestOf', () => {
  it('names the agent by clientIp: the forwarded address only from a trusted proxy', () => {
    const request = {
      url: '/v1/opamp?x=1',
      headers: { 'x-forwarded-for': '203.0.113.7' },
      socket: { remoteAddress: '::ffff:127.0.0.2' },
    } as unknown as IncomingMessage;
    expect(connectionRequestOf(request, 'websocket', TrustedProxies.NONE)).toMatchObject({
      path: '/v1/opamp',
      clientIp: '127.0.0.2',
      transport: 'websocket',
    });
    const behindGateway = TrustedProxies.parse(['127.0.0.2']);
    expect(connectionRequestOf(request, 'http', behindGateway).clientIp).toBe('203.0.113.7');
  });
});

describe('errorResponseOf', () => {
  it('is BAD_REQUEST for a refusal the agent cannot retry away, UNAVAILABLE for 5xx', async () => {
    const { gate } = gateOf({
      claimAgent: async () => ({ kind: 'owned_by_other', ownerTokenId: 'x' }),
    });
    const conflict = await gate.onAgentIdentified(IDENTITY);
    if (conflict.accepted) throw new Error('expected a refusal');
    expect(errorResponseOf(conflict.refusal)).toMatchObject({
      type: ServerErrorResponseType.ServerErrorResponseType_BadRequest,
      errorMessage: expect.stringContaining('agent_identity_conflict') as unknown,
    });
    const { gate: failing } = gateOf({
      claimAgent: async () => {
        throw new Error('boom');
      },
    });
    const unavailable = await failing.onAgentIdentified(IDENTITY);
    if (unavailable.accepted) throw new Error('expected a refusal');
    expect(errorResponseOf(unavailable.refusal).type).toBe(
      ServerErrorResponseType.ServerErrorResponseType_Unavailable,
    );
  });
});
