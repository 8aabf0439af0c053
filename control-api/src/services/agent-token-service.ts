import { randomUUID } from 'node:crypto';
import { LISTED_AGENT_IDS, UNLIMITED_AGENTS, type MaxAgents } from '@cybercorp/protocol';
import { bearerToken } from '../auth/bearer.js';
import { AGENT_TOKEN_PREFIX, hashToken, newOpaqueToken } from '../auth/secrets.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { ApiError } from '../infra/problem.js';
import type {
  AgentTokenListing,
  AgentTokenRepository,
  AgentTokenRow,
} from '../repositories/agent-tokens.js';
import type { AgentRepository, ClaimOutcome } from '../repositories/agents.js';
import type { Transport } from './presence.js';

export interface AgentTokenView {
  id: string;
  name: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  maxAgents: MaxAgents;
  agentCount: number;
  agentIds: string[];
}

export interface AgentTokenServiceDeps {
  tokens: AgentTokenRepository;
  agents: Pick<AgentRepository, 'claim'>;
  /** Closes the token's live sessions, on every instance. */
  revocations: { announce(tokenId: string): Promise<void> };
  clock: Clock;
  logger: Logger;
}

const maxAgentsOf = (row: AgentTokenRow): MaxAgents => row.maxAgents ?? UNLIMITED_AGENTS;

const view = (row: AgentTokenListing): AgentTokenView => ({
  id: row.id,
  name: row.name,
  createdBy: row.createdBy,
  createdAt: row.createdAt.toISOString(),
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  maxAgents: maxAgentsOf(row),
  agentCount: row.agentCount,
  agentIds: row.agentIds,
});

/** The shape of an agent secret (`cca_` and base64url); anything else is not looked up. */
const AGENT_TOKEN = new RegExp(`^${AGENT_TOKEN_PREFIX}[A-Za-z0-9_-]{1,196}$`);

export class AgentTokenService {
  private readonly tokens: AgentTokenRepository;

  constructor(private readonly deps: AgentTokenServiceDeps) {
    this.tokens = deps.tokens;
  }

  /** The secret is returned only here; the database keeps its hash. */
  async create(
    name: string,
    createdBy: string,
    maxAgents: MaxAgents = 1,
  ): Promise<{ id: string; name: string; maxAgents: MaxAgents; token: string }> {
    const token = newOpaqueToken(AGENT_TOKEN_PREFIX);
    const row = await this.tokens.insert({
      id: randomUUID(),
      name,
      tokenHash: hashToken(token),
      createdBy,
      maxAgents: maxAgents === UNLIMITED_AGENTS ? null : maxAgents,
    });
    return { id: row.id, name: row.name, maxAgents: maxAgentsOf(row), token };
  }

  async list(): Promise<AgentTokenView[]> {
    return (await this.tokens.listActive(LISTED_AGENT_IDS)).map(view);
  }

  /** Refuses the token from now on and closes its live sessions on every instance. */
  async revoke(id: string, revokedBy: string): Promise<void> {
    const row = await this.tokens.revoke(id, new Date(this.deps.clock.now()));
    if (!row) throw new ApiError('not_found', `no active agent token ${id}`);
    this.deps.logger.info('agent token revoked', { id, name: row.name, revokedBy });
    await this.deps.revocations.announce(id);
  }

  /** Binds an instance uid to the token that presents it first; see AgentRepository.claim. */
  claimAgent(token: AgentTokenRow, agentId: string, transport: Transport): Promise<ClaimOutcome> {
    return this.deps.agents.claim(agentId, token.id, transport, new Date(this.deps.clock.now()));
  }

  /**
   * The single check of agent credentials, for both OpAMP transports. Only `cca_` secrets
   * qualify, so a user JWT can never authenticate an agent.
   */
  async authenticate(authorization: string | undefined): Promise<AgentTokenRow | null> {
    const token = bearerToken(authorization);
    if (!token || !AGENT_TOKEN.test(token)) return null;
    return this.tokens.findActiveByHash(hashToken(token));
  }
}
