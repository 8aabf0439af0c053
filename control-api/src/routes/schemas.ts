import {
  ProcessInfo,
  WindowAction,
  WindowId,
  WindowInfo,
  ProcessAction,
} from '@cybercorp/protocol';
import { z } from 'zod';
import { PERMISSIONS, ROLES } from '../auth/permissions.js';

/** Request and response shapes; requests are validated with them and the OpenAPI document is generated from them. */

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
  })
  .meta({ id: 'Problem' });

export const LoginBody = z.object({
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(1024),
});
export const RefreshBody = z.object({ refreshToken: z.string().min(1).max(200) });
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

export const CreateAgentTokenBody = z.object({ name: z.string().min(1).max(200) });
export const AgentToken = z.object({ id: z.uuid(), name: z.string(), token: z.string() });

export const AgentParams = z.object({ agentId: z.string().min(1).max(200) });
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
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .optional(),
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
  reason: z.string().max(1000).optional(),
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
  reason: z.string().max(1000).optional(),
});

export const ActionResult = z.object({
  commandId: z.string(),
  status: z.literal('succeeded'),
  result: z.unknown(),
});

export const CommandParams = z.object({ commandId: z.string().min(1).max(100) });
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
  agentId: z.string().max(200).optional(),
  actor: z.string().max(200).optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .optional(),
  cursor: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'cursor must come from nextCursor')
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
