import { z } from 'zod';

/**
 * An RFC 9457 problem, the body of every error answer. Problems carry extension members (e.g.
 * `errors`, `retryAfterSeconds`), so the object is open.
 */
export const Problem = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
});
export type Problem = z.infer<typeof Problem>;
