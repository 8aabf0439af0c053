import { AgentCapabilities, CONTROL_CAPABILITY, WINDOWS_CAPABILITY } from '@cybercorp/protocol';
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
    if (typeof value !== 'number' || value === 0) continue;
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

  async list(): Promise<AgentView[]> {
    const rows = await this.agents.list();
    const online = await this.presence.lookupMany(rows.map((r) => r.id));
    return rows.map((row) => toView(row, online.has(row.id)));
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
