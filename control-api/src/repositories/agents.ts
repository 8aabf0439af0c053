import type pg from 'pg';
import { inTransaction } from './transaction.js';

export interface AgentRow {
  id: string;
  hostname: string | null;
  identifyingAttributes: Record<string, string>;
  nonIdentifyingAttributes: Record<string, string>;
  capabilities: string; // bigint bit mask as text
  customCapabilities: string[];
  transport: 'websocket' | 'http';
  firstSeenAt: Date;
  lastSeenAt: Date;
}

type Transport = 'websocket' | 'http';

export interface AgentSighting {
  id: string;
  transport: 'websocket' | 'http';
  agentTokenId: string;
  capabilities: bigint;
  seenAt: Date;
  description?: {
    hostname: string | null;
    identifyingAttributes: Record<string, string>;
    nonIdentifyingAttributes: Record<string, string>;
  };
  customCapabilities?: string[];
}

const COLUMNS = `id, hostname, identifying_attributes AS "identifyingAttributes",
  non_identifying_attributes AS "nonIdentifyingAttributes", capabilities::text AS capabilities,
  custom_capabilities AS "customCapabilities", transport, first_seen_at AS "firstSeenAt",
  last_seen_at AS "lastSeenAt"`;

/** What claiming an instance uid for an agent token came to. */
export type ClaimOutcome =
  /** The uid was already the token's. */
  | { kind: 'owned' }
  /** The uid is new (or had no owner) and is the token's from now on. */
  | { kind: 'registered' }
  | { kind: 'owned_by_other'; ownerTokenId: string }
  | { kind: 'limit_reached'; maxAgents: number }
  | { kind: 'token_revoked' };

export class AgentRepository {
  constructor(private readonly db: pg.Pool) {}

  /**
   * Binds the uid to the token unless another token owns it or the token is at its cap. Claims
   * of one token are serialized by a lock on its row, so parallel registrations cannot pass the
   * cap; a uid claimed by two tokens at once goes to the first insert.
   */
  async claim(
    agentId: string,
    tokenId: string,
    transport: Transport,
    at: Date,
  ): Promise<ClaimOutcome> {
    const owner = await this.ownerOf(this.db, agentId);
    if (owner === tokenId) return { kind: 'owned' };
    if (owner) return { kind: 'owned_by_other', ownerTokenId: owner };

    return inTransaction(this.db, (client) =>
      this.claimLocked(client, agentId, tokenId, transport, at),
    );
  }

  private async claimLocked(
    client: pg.PoolClient,
    agentId: string,
    tokenId: string,
    transport: Transport,
    at: Date,
  ): Promise<ClaimOutcome> {
    const { rows: tokens } = await client.query<{ maxAgents: number | null }>(
      `SELECT max_agents AS "maxAgents" FROM agent_tokens
        WHERE id = $1 AND revoked_at IS NULL FOR UPDATE`,
      [tokenId],
    );
    const token = tokens[0];
    if (!token) return { kind: 'token_revoked' };
    if (token.maxAgents !== null) {
      const { rows } = await client.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM agents WHERE agent_token_id = $1',
        [tokenId],
      );
      if ((rows[0]?.count ?? 0) >= token.maxAgents) {
        return { kind: 'limit_reached', maxAgents: token.maxAgents };
      }
    }
    const { rowCount } = await client.query(
      `INSERT INTO agents (id, transport, agent_token_id, first_seen_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (id) DO UPDATE SET agent_token_id = EXCLUDED.agent_token_id
         WHERE agents.agent_token_id IS NULL`,
      [agentId, transport, tokenId, at],
    );
    if (rowCount === 1) return { kind: 'registered' };
    const owner = await this.ownerOf(client, agentId);
    return owner === tokenId
      ? { kind: 'owned' }
      : { kind: 'owned_by_other', ownerTokenId: owner ?? 'unknown' };
  }

  private async ownerOf(db: pg.Pool | pg.PoolClient, agentId: string): Promise<string | null> {
    const { rows } = await db.query<{ owner: string | null }>({
      name: 'agents.owner',
      text: 'SELECT agent_token_id AS owner FROM agents WHERE id = $1',
      values: [agentId],
    });
    return rows[0]?.owner ?? null;
  }

  /** Removes the agent and its command history; returns whether it existed. */
  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { rowCount } = await this.db.query('DELETE FROM agents WHERE id = $1', [id]);
    return rowCount === 1;
  }

  /** Records that the agent spoke; fields it did not send this time keep their stored values. */
  async upsert(s: AgentSighting): Promise<void> {
    const d = s.description;
    await this.db.query({
      name: 'agents.upsert',
      text: `INSERT INTO agents (id, hostname, identifying_attributes, non_identifying_attributes,
                           capabilities, custom_capabilities, transport, agent_token_id,
                           first_seen_at, last_seen_at)
       VALUES ($1, $2, COALESCE($3::jsonb, '{}'), COALESCE($4::jsonb, '{}'), $5,
               COALESCE($6::text[], '{}'), $7, $8, $9, $9)
       ON CONFLICT (id) DO UPDATE SET
         hostname = CASE WHEN $10 THEN EXCLUDED.hostname ELSE agents.hostname END,
         identifying_attributes = COALESCE($3::jsonb, agents.identifying_attributes),
         non_identifying_attributes = COALESCE($4::jsonb, agents.non_identifying_attributes),
         capabilities = CASE WHEN $5 <> 0 THEN EXCLUDED.capabilities ELSE agents.capabilities END,
         custom_capabilities = COALESCE($6::text[], agents.custom_capabilities),
         transport = EXCLUDED.transport,
         agent_token_id = COALESCE(agents.agent_token_id, EXCLUDED.agent_token_id),
         last_seen_at = GREATEST(agents.last_seen_at, EXCLUDED.last_seen_at)`,
      values: [
        s.id,
        d?.hostname ?? null,
        d ? JSON.stringify(d.identifyingAttributes) : null,
        d ? JSON.stringify(d.nonIdentifyingAttributes) : null,
        s.capabilities.toString(),
        s.customCapabilities ?? null,
        s.transport,
        s.agentTokenId,
        s.seenAt,
        d !== undefined,
      ],
    });
  }

  /**
   * Moves `last_seen_at` forward for agents whose row is otherwise current (heartbeats): one
   * statement for many agents, so a fleet's heartbeats cost a few statements a second.
   */
  async touchMany(sightings: readonly { id: string; seenAt: Date }[]): Promise<void> {
    if (sightings.length === 0) return;
    await this.db.query({
      name: 'agents.touch-many',
      text: `UPDATE agents SET last_seen_at = GREATEST(agents.last_seen_at, u.seen_at)
       FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, seen_at) WHERE agents.id = u.id`,
      values: [sightings.map((s) => s.id), sightings.map((s) => s.seenAt)],
    });
  }

  async findById(id: string): Promise<AgentRow | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<AgentRow>({
      name: 'agents.find-by-id',
      text: `SELECT ${COLUMNS} FROM agents WHERE id = $1`,
      values: [id],
    });
    return rows[0] ?? null;
  }

  /** Ordered by id; `afterId` is the keyset cursor (the last id of the previous page). */
  async list(page: { limit: number; afterId?: string }): Promise<AgentRow[]> {
    const { rows } = await this.db.query<AgentRow>(
      `SELECT ${COLUMNS} FROM agents WHERE ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $1`,
      [page.limit, page.afterId ?? null],
    );
    return rows;
  }
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
