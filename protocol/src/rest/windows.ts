import { z } from 'zod';
import { WindowAction, WindowId, WindowInfo } from '../control.js';
import { AgentParams } from './agents.js';
import { instant, text } from './text.js';

export const WindowQuery = z.object({
  cached: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: answer from the latest window.event instead of asking the agent'),
  at: instant
    .optional()
    .describe(
      'answer what was open then, from the inventory history, instead of live (cached is then not used)',
    ),
});
export type WindowQuery = z.input<typeof WindowQuery>;

export const WindowList = z.object({
  items: z.array(WindowInfo),
  source: z.enum(['agent', 'event']),
  at: z.number().int().optional(),
});
export type WindowList = z.infer<typeof WindowList>;

export const WindowParams = AgentParams.extend({ windowId: WindowId });
export type WindowParams = z.input<typeof WindowParams>;

export const WindowActionBody = z.object({
  action: WindowAction,
  reason: text(0, 1000).optional(),
});
export type WindowActionBody = z.input<typeof WindowActionBody>;
