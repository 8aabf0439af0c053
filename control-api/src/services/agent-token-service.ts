import { randomUUID } from 'node:crypto';
import { bearerToken } from '../auth/bearer.js';
import { AGENT_TOKEN_PREFIX, hashToken, newOpaqueToken } from '../auth/secrets.js';
import type { AgentTokenRepository, AgentTokenRow } from '../repositories/agent-tokens.js';

/** The shape of an agent secret (`cca_` and base64url); anything else is not looked up. */
const AGENT_TOKEN = new RegExp(`^${AGENT_TOKEN_PREFIX}[A-Za-z0-9_-]{1,196}$`);

export class AgentTokenService {
  constructor(private readonly tokens: AgentTokenRepository) {}

  /** The secret is returned only here; the database keeps its hash. */
  async create(
    name: string,
    createdBy: string,
  ): Promise<{ id: string; name: string; token: string }> {
    const token = newOpaqueToken(AGENT_TOKEN_PREFIX);
    const row = await this.tokens.insert({
      id: randomUUID(),
      name,
      tokenHash: hashToken(token),
      createdBy,
    });
    return { id: row.id, name: row.name, token };
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
