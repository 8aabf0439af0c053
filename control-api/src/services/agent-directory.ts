import { AgentCapabilities, CONTROL_CAPABILITY, WINDOWS_CAPABILITY } from '@cybercorp/protocol';
import { ApiError } from '../infra/problem.js';
import type { AgentRepository, AgentRow } from '../repositories/agents.js';
import type { Presence } from './presence.js';

export interface AgentView {
  id: string;
  hostname: string | null;
  online: boolean;
  transport: 'websocket' | 'http';
  firstSeenAt: string;
  lastSeenAt: string;
  capabilities: string[];
  opampCapabilities: string[];
  controllable: boolean;
  windowsControl: boolean;
  resourceAttributes: Record<string, string>;
  identifyingAttributes: Record<string, string>;
}

/** Names of the OpAMP capability bits set in a mask, e.g. `ReportsStatus`. */
export function capabilityNames(mask: bigint): string[] {
  const names: string[] = [];
  for (const [name, value] of Object.entries(AgentCapabilities)) {
    if (typeof value !== 'number' || value === AgentCapabilities.AgentCapabilities_Unspecified) {
      continue;
    }
    if ((mask & BigInt(value)) !== 0n) names.push(name.replace(/^AgentCapabilities_/, ''));
  }
  return names;
}

/** Agents as the API shows them: stored description plus live presence. */
export class AgentDirectory {
  constructor(
    private readonly agents: AgentRepository,
    private readonly presence: Presence,
  ) {}

  /** One page of agents ordered by id, and the cursor of the next page (null on the last). */
  async page(
    limit: number,
    afterId?: string,
  ): Promise<{ items: AgentView[]; nextCursor: string | null }> {
    const rows = await this.agents.list({ limit: limit + 1, afterId });
    const pageRows = rows.slice(0, limit);
    const online = await this.presence.lookupMany(pageRows.map((r) => r.id));
    const last = pageRows[pageRows.length - 1];
    return {
      items: pageRows.map((row) => toView(row, online.has(row.id))),
      nextCursor: rows.length > limit && last ? last.id : null,
    };
  }

  /** Every agent, page by page (for metrics). */
  async all(): Promise<AgentView[]> {
    const agents: AgentView[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 1000; pages++) {
      const { items, nextCursor } = await this.page(1000, cursor);
      agents.push(...items);
      if (!nextCursor) break;
      cursor = nextCursor;
    }
    return agents;
  }

  /**
   * Removes an offline agent from the fleet with its command history (the audit log keeps its
   * trail), and frees its instance uid and its place under its token's `maxAgents`. A connected
   * agent is refused: it would only be written back by its next message.
   */
  async decommission(agentId: string): Promise<void> {
    await this.mustExist(agentId);
    if (await this.presence.lookup(agentId)) {
      throw new ApiError('agent_online', `agent ${agentId} is connected; stop it first`);
    }
    await this.agents.delete(agentId);
  }

  /**
   * Refuses an unknown agent with 404 `no_such_agent`. Reads only its row: what is kept of an
   * agent (history, inventory) is in PostgreSQL, and answers while Redis is away.
   */
  async mustExist(agentId: string): Promise<void> {
    if (!(await this.agents.findById(agentId))) {
      throw new ApiError('no_such_agent', `no agent ${agentId}`);
    }
  }

  async get(agentId: string): Promise<AgentView | null> {
    const row = await this.agents.findById(agentId);
    if (!row) return null;
    return toView(row, (await this.presence.lookup(agentId)) !== null);
  }
}

function toView(row: AgentRow, online: boolean): AgentView {
  const controllable =
    row.transport === 'websocket' && row.customCapabilities.includes(CONTROL_CAPABILITY);
  return {
    id: row.id,
    hostname: row.hostname,
    online,
    transport: row.transport,
    firstSeenAt: row.firstSeenAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    capabilities: row.customCapabilities,
    opampCapabilities: capabilityNames(BigInt(row.capabilities)),
    controllable,
    windowsControl: controllable && row.customCapabilities.includes(WINDOWS_CAPABILITY),
    resourceAttributes: { ...row.nonIdentifyingAttributes, ...row.identifyingAttributes },
    identifyingAttributes: row.identifyingAttributes,
  };
}
