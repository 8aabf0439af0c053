import { z } from 'zod';
import { queryInteger, text } from './text.js';

export const AgentParams = z.object({ agentId: text(1, 200) });
export type AgentParams = z.input<typeof AgentParams>;

export const Agent = z.object({
  /** OpAMP instance uid. */
  id: z.string(),
  hostname: z.string().nullable(),
  online: z.boolean(),
  transport: z.enum(['websocket', 'http']),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  capabilities: z.array(z.string()).describe('custom capabilities, e.g. io.cybercorp.control.v1'),
  opampCapabilities: z.array(z.string()).describe('OpAMP AgentCapabilities flag names'),
  /** Whether the agent accepts process and window commands at all. */
  controllable: z.boolean(),
  windowsControl: z.boolean(),
  /** OTel resource attributes from the agent's description (host.name, os.type, …). */
  resourceAttributes: z.record(z.string(), z.string()),
  identifyingAttributes: z.record(z.string(), z.string()),
});
export type Agent = z.infer<typeof Agent>;

export const AgentList = z.object({ items: z.array(Agent), nextCursor: z.string().nullable() });
export type AgentList = z.infer<typeof AgentList>;

export const AgentListQuery = z.object({
  limit: queryInteger(1, 1000).optional(),
  cursor: z.uuid().optional().describe('nextCursor of the previous page'),
});
export type AgentListQuery = z.input<typeof AgentListQuery>;
