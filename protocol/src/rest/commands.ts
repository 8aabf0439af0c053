import { z } from 'zod';
import { text } from './text.js';

/** What an accepted process or window action answers: the command and how it ended. */
export const ActionResult = z.object({
  commandId: z.string(),
  status: z.literal('succeeded'),
  result: z.unknown(),
});
export type ActionResult = z.infer<typeof ActionResult>;

export const CommandParams = z.object({ commandId: text(1, 100) });
export type CommandParams = z.input<typeof CommandParams>;

/**
 * `offline`: never sent (the agent was not connected, or the send failed). `unknown`: sent, and
 * the agent's connection ended before it answered, so whether it was carried out is not known.
 */
export const COMMAND_STATUSES = [
  'pending',
  'succeeded',
  'failed',
  'timed_out',
  'offline',
  'unknown',
] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export const Command = z.object({
  id: z.string(),
  agentId: z.string(),
  type: z.string(),
  target: z.string().nullable(),
  action: z.string().nullable(),
  reason: z.string().nullable(),
  actor: z.string(),
  status: z.enum(COMMAND_STATUSES),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  result: z.unknown(),
  createdAt: z.string(),
  deadlineAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type Command = z.infer<typeof Command>;
