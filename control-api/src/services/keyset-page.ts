/**
 * One page of a list newest first by id: asks for one row more than the limit to learn whether
 * another page follows, whose cursor is then the last id answered.
 */
export async function keysetPage<T extends { id: string }>(
  list: (beforeId: bigint | undefined, limit: number) => Promise<T[]>,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const rows = await list(cursor === undefined ? undefined : BigInt(cursor), limit + 1);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? last.id : null };
}
