import type { RouteResult } from './route.js';

/** A list route's query: an instant range (`since`, `until`) and protocol's keysetPage paging. */
interface KeysetPageQuery {
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

/** The range filter every dated list takes, beside its own filters. */
interface InstantRange {
  since?: Date;
  until?: Date;
}

/** A service answering pages of rows dated `at`, newest first (services/keyset-page.ts). */
interface KeysetPaged<F extends InstantRange, T extends { at: Date }> {
  page(
    filter: F,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ items: T[]; nextCursor: string | null }>;
}

/**
 * The answer of a keyset-paged list route: the page of `list` with the route's own `filters` and
 * the query's range, `limit` (`defaultLimit` when absent) and cursor; each row's `at` as an
 * RFC 3339 string, and `nextCursor` (null on the last page).
 */
export async function answerKeysetPage<F extends InstantRange, T extends { at: Date }>(
  list: KeysetPaged<F, T>,
  // The service's own filter type, so that a filter it does not have is a compile error.
  filters: NoInfer<Omit<F, keyof InstantRange>>,
  query: KeysetPageQuery,
  defaultLimit: number,
): Promise<RouteResult> {
  const range: InstantRange = {
    since: query.since === undefined ? undefined : new Date(query.since),
    until: query.until === undefined ? undefined : new Date(query.until),
  };
  const { items, nextCursor } = await list.page(
    // Omit<F, …> and the range it left out make an F again, which TypeScript cannot see.
    { ...filters, ...range } as F,
    query.limit ?? defaultLimit,
    query.cursor,
  );
  return {
    status: 200,
    body: { items: items.map((row) => ({ ...row, at: row.at.toISOString() })), nextCursor },
  };
}
