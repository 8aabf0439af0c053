import { randomUUID } from 'node:crypto';
import { AGENT_TOKEN_PREFIX, hashToken, newOpaqueToken } from '../auth/secrets.js';
import type { AgentTokenRepository, AgentTokenRow } from '../repositories/agent-tokens.js';

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
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(authorization ?? '');
    const token = match?.[1];
    if (!token || !token.startsWith(AGENT_TOKEN_PREFIX)) return null;
    return this.tokens.findActiveByHash(hashToken(token));
  }
}
