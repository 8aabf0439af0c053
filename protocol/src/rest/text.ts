import { z } from 'zod';

/** PostgreSQL text cannot hold U+0000: free text that reaches the database is refused up front. */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const NO_NUL = /^[^\u0000]*$/;

/** Free text of a bounded length that the control API may store. */
export function text(min: number, max: number) {
  return z.string().min(min).max(max).regex(NO_NUL, 'must not contain NUL characters');
}

/**
 * A query-string integer in [min, max], written in decimal digits. Validated as a string (no
 * `1e2`, `0x10` or blanks), documented as the integer it stands for.
 */
export function queryInteger(min: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]{1,10}$/, 'must be a decimal integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ type: 'integer', minimum: min, maximum: max, pattern: undefined });
}

/** An absolute instant: RFC 3339 with `Z` or an offset, never a local time. */
export const instant = z.iso.datetime({ offset: true });

/** The paging of a list newest first by id: `limit`, and `cursor` from the previous page. */
export const keysetPage = {
  limit: queryInteger(1, 500).optional(),
  // At most 18 digits: always inside PostgreSQL's bigint, which the ids are.
  cursor: z
    .string()
    .regex(/^[0-9]{1,18}$/, 'cursor must come from nextCursor')
    .optional()
    .describe('nextCursor of the previous page, with the same filters'),
};
