/**
 * The control API's REST shapes as the plugin reads them (see ARCHITECTURE.md, "Public
 * contract"). Kept free of runtime code so the browser bundle does not pull in the Node-side
 * protocol package.
 */

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export type AttributeMap = Record<string, string | number | boolean>;

export interface Agent {
  /** OpAMP instance uid. */
  id: string;
  hostname: string | null;
  online: boolean;
  transport?: 'websocket' | 'http';
  firstSeenAt?: string;
  lastSeenAt: string;
  /** Custom capabilities, e.g. io.cybercorp.control.v1. */
  capabilities: string[];
  /** OpAMP AgentCapabilities flag names. */
  opampCapabilities?: string[];
  /** Whether the agent accepts process and window commands at all. */
  controllable?: boolean;
  windowsControl?: boolean;
  /** OTel resource attributes from the agent's description (host.name, os.type, …). */
  resourceAttributes?: AttributeMap;
  identifyingAttributes?: AttributeMap;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  name: string;
  user: string;
  state: string;
  cpuPercent: number;
  memoryBytes: number;
  command: string;
  startedAt: string | null;
}

export interface WindowInfo {
  id: string;
  title: string;
  pid: number | null;
  bounds: { x: number; y: number; width: number; height: number };
  active: boolean;
  minimized: boolean;
  maximized: boolean;
}

export const PROCESS_ACTIONS = ['terminate', 'kill', 'suspend', 'resume'] as const;
export type ProcessAction = (typeof PROCESS_ACTIONS)[number];

export const WINDOW_ACTIONS = ['focus', 'minimize', 'maximize', 'restore', 'close'] as const;
export type WindowAction = (typeof WINDOW_ACTIONS)[number];

/** What an accepted action answers: the command and how it ended. */
export interface CommandOutcome {
  commandId: string;
  status: string;
}

export type AuditOutcome = 'succeeded' | 'failed' | 'denied';

export interface AuditEvent {
  id: string | number;
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  agentId: string | null;
  reason: string | null;
  outcome: AuditOutcome;
  errorCode: string | null;
  commandId: string | null;
}

/** `agentId` and `actor` are filtered by the API; the rest on the page (see matchesAuditFilter). */
export interface AuditFilter {
  agentId?: string;
  actor?: string;
  /** Audit action such as `process.kill`; a part of it matches too. */
  action?: string;
  /** ISO timestamps bounding `at`. */
  since?: string;
  until?: string;
}

export interface Me {
  username: string;
  role: string;
  permissions: string[];
}
