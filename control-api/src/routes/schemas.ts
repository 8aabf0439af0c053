import {
  ProcessInfo,
  WindowAction,
  WindowId,
  WindowInfo,
  ProcessAction,
  StartedAt,
} from '@cybercorp/protocol';
import { z } from 'zod';
import { PERMISSIONS, ROLES } from '../auth/permissions.js';

/** Request and response shapes; requests are validated with them and the OpenAPI document is generated from them. */

/** Problems carry extension members (e.g. `errors`, `retryAfterSeconds`), so the object is open. */
export const Problem = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
});

/** PostgreSQL text cannot hold U+0000: free text that reaches the database is refused up front. */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const NO_NUL = /^[^\u0000]*$/;
function text(min: number, max: number) {
  return z.string().min(min).max(max).regex(NO_NUL, 'must not contain NUL characters');
}

/**
 * A query-string integer in [min, max], written in decimal digits. Validated as a string (no
 * `1e2`, `0x10` or blanks), documented as the integer it stands for.
 */
function queryInteger(min: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]{1,10}$/, 'must be a decimal integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ type: 'integer', minimum: min, maximum: max, pattern: undefined });
}

export const LoginBody = z.object({
  username: text(1, 100),
  password: z.string().min(1).max(1024),
});
export const RefreshBody = z.object({ refreshToken: text(1, 200) });
export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});
export const Me = z.object({
  username: z.string(),
  role: z.enum(ROLES),
  permissions: z.array(z.enum(PERMISSIONS as [string, ...string[]])),
});

export const CreateUserBody = z.object({
  username: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_.@-]+$/),
  password: z.string().min(8).max(1024),
  role: z.enum(ROLES),
});
export const User = z.object({
  id: z.uuid(),
  username: z.string(),
  role: z.enum(ROLES),
  createdAt: z.string(),
});

export const CreateAgentTokenBody = z.object({ name: text(1, 200) });
export const AgentToken = z.object({ id: z.uuid(), name: z.string(), token: z.string() });

export const AgentParams = z.object({ agentId: text(1, 200) });
export const Agent = z.object({
  id: z.string(),
  hostname: z.string().nullable(),
  online: z.boolean(),
  transport: z.enum(['websocket', 'http']),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  capabilities: z.array(z.string()).describe('custom capabilities, e.g. io.cybercorp.control.v1'),
  opampCapabilities: z.array(z.string()).describe('OpAMP AgentCapabilities flag names'),
  controllable: z.boolean(),
  windowsControl: z.boolean(),
  resourceAttributes: z.record(z.string(), z.string()),
  identifyingAttributes: z.record(z.string(), z.string()),
});
export const AgentList = z.object({ items: z.array(Agent), nextCursor: z.string().nullable() });
export const AgentListQuery = z.object({
  limit: queryInteger(1, 1000).optional(),
  cursor: z.uuid().optional().describe('nextCursor of the previous page'),
});

export const ProcessList = z.object({ items: z.array(ProcessInfo) });
export const ProcessParams = AgentParams.extend({
  pid: z
    .string()
    .regex(/^[0-9]{1,10}$/, 'pid must be a positive integer')
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .positive()
        .max(2 ** 31 - 1),
    ),
});
export const ProcessActionBody = z.object({
  action: ProcessAction,
  reason: text(0, 1000).optional(),
  startedAt: StartedAt.optional().describe(
    "the process's startedAt as listed; another process now on that pid: 409 process_changed",
  ),
});

export const WindowQuery = z.object({
  cached: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: answer from the latest window.event instead of asking the agent'),
});
export const WindowList = z.object({
  items: z.array(WindowInfo),
  source: z.enum(['agent', 'event']),
  at: z.number().int().optional(),
});
export const WindowParams = AgentParams.extend({ windowId: WindowId });
export const WindowActionBody = z.object({
  action: WindowAction,
  reason: text(0, 1000).optional(),
});

export const ActionResult = z.object({
  commandId: z.string(),
  status: z.literal('succeeded'),
  result: z.unknown(),
});

export const CommandParams = z.object({ commandId: text(1, 100) });
export const Command = z.object({
  id: z.string(),
  agentId: z.string(),
  type: z.string(),
  target: z.string().nullable(),
  action: z.string().nullable(),
  reason: z.string().nullable(),
  actor: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed', 'timed_out', 'offline']),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  result: z.unknown(),
  createdAt: z.string(),
  deadlineAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const AuditQuery = z.object({
  agentId: text(0, 200).optional(),
  actor: text(0, 200).optional(),
  limit: queryInteger(1, 500).optional(),
  // At most 18 digits: always inside PostgreSQL's bigint, which audit ids are.
  cursor: z
    .string()
    .regex(/^[0-9]{1,18}$/, 'cursor must come from nextCursor')
    .optional(),
});
export const AuditEvent = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  agentId: z.string().nullable(),
  reason: z.string().nullable(),
  outcome: z.enum(['succeeded', 'failed', 'denied']),
  errorCode: z.string().nullable(),
  commandId: z.string().nullable(),
});
export const AuditList = z.object({
  items: z.array(AuditEvent),
  nextCursor: z.string().nullable(),
});
