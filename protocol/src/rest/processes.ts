import { z } from 'zod';
import { ProcessAction, ProcessInfo, StartedAt } from '../control.js';
import { AgentParams } from './agents.js';
import { text } from './text.js';

export const ProcessList = z.object({ items: z.array(ProcessInfo) });
export type ProcessList = z.infer<typeof ProcessList>;

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
export type ProcessParams = z.input<typeof ProcessParams>;

export const ProcessActionBody = z.object({
  action: ProcessAction,
  reason: text(0, 1000).optional(),
  startedAt: StartedAt.optional().describe(
    "the process's startedAt as listed; another process now on that pid: 409 process_changed",
  ),
});
export type ProcessActionBody = z.input<typeof ProcessActionBody>;
