import { z } from 'zod';
import { instant, keysetPage, text } from './text.js';

/**
 * Filters of the audit log, all applied by the API. Unknown parameters are refused, so a
 * misspelt or array-shaped filter (`actor[]=x`) gets a 400, never an unfiltered page.
 */
export const AuditQuery = z.strictObject({
  agentId: text(0, 200).optional(),
  actor: text(0, 200).optional(),
  action: text(0, 200).optional().describe('exact audit action, e.g. process.kill'),
  since: instant.optional().describe('events at or after this instant'),
  until: instant.optional().describe('events at or before this instant'),
  ...keysetPage,
});
export type AuditQuery = z.input<typeof AuditQuery>;

/** `unknown`: the command reached the agent, whose connection ended before it answered. */
export const AUDIT_OUTCOMES = ['succeeded', 'failed', 'denied', 'unknown'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const AuditEvent = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  agentId: z.string().nullable(),
  reason: z.string().nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  errorCode: z.string().nullable(),
  commandId: z.string().nullable(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

export const AuditList = z.object({
  items: z.array(AuditEvent),
  nextCursor: z.string().nullable(),
});
export type AuditList = z.infer<typeof AuditList>;
