/** One filter of a list: `column op value`, left out when the value is undefined. */
export type ListCondition = readonly [column: string, op: '=' | '>=' | '<=', value: unknown];

/**
 * A page of a table newest first by its bigint `id`, keyset-paged (`beforeId` is the last id
 * of the previous page). Only the filters given become conditions, so each page is one range
 * of an index walked backwards. Column names come from code, never from a request.
 */
export function newestFirstQuery(
  table: string,
  columns: string,
  conditions: readonly ListCondition[],
  page: { beforeId?: bigint; limit: number },
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const clauses: string[] = [];
  for (const [column, op, value] of conditions) {
    if (value === undefined) continue;
    values.push(value);
    clauses.push(`${column} ${op} $${values.length}`);
  }
  if (page.beforeId !== undefined) {
    values.push(page.beforeId.toString());
    clauses.push(`id < $${values.length}::bigint`);
  }
  values.push(page.limit);
  const text = `SELECT ${columns}
  FROM ${table}${clauses.length > 0 ? `\n WHERE ${clauses.join('\n   AND ')}` : ''}
 ORDER BY ${table}.id DESC LIMIT $${values.length}`;
  return { text, values };
}
