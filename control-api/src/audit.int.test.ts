import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, Reply } from './test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

type AuditPage = { items: { id: string; at: string; action: string }[]; nextCursor: string | null };

/** Ids run from one to three digits: pages must follow the numeric id, not its text. */
const ROWS = 400;
const ACTIONS = ['process.kill', 'process.terminate', 'window.close'];
const START = Date.parse('2026-11-25T00:00:00.000Z');
/** Row i's action and time: times are a permutation of the rows' minutes, so `at` does not follow id. */
const actionOf = (i: number) => ACTIONS[i % ACTIONS.length]!;
const atOf = (i: number) => new Date(START + ((i * 7) % ROWS) * 60_000);

let api: TestApi;
let admin: ApiClient;
/** Ids of the inserted rows, by row number. */
let ids: string[];

beforeAll(async () => {
  ({ api, admin } = await startTestApiWithAdmin());
  // More rows than several pages, written straight into the API's own database.
  const db = new pg.Client({ connectionString: api.databaseUrl });
  await db.connect();
  try {
    const rows = Array.from({ length: ROWS }, (_, i) => i);
    const { rows: inserted } = await db.query<{ id: string }>(
      `INSERT INTO audit_events (at, actor, action, target_type, target_id, agent_id, outcome)
       SELECT at, 'alice', action, 'process', target_id, 'agent-1', 'succeeded'
         FROM unnest($1::timestamptz[], $2::text[], $3::text[]) WITH ORDINALITY AS r(at, action, target_id, n)
        ORDER BY n
       RETURNING id::text AS id`,
      [rows.map(atOf), rows.map(actionOf), rows.map(String)],
    );
    ids = inserted.map((r) => r.id);
  } finally {
    await db.end();
  }
});
afterAll(async () => {
  await api?.stop();
});

/** Follows nextCursor from the first page (bounded), keeping every page. */
async function allPages(query: string): Promise<AuditPage[]> {
  const pages: AuditPage[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 50; n++) {
    const reply: Reply<AuditPage> = await admin.request<AuditPage>(
      'GET',
      `/api/v1/audit?${query}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    pages.push(reply.body);
    cursor = reply.body.nextCursor;
    if (!cursor) return pages;
  }
  throw new Error(`the audit log for ${query} did not end within 50 pages`);
}

/** Ids of the rows that match, newest (highest id) first. */
function expectedIds(matches: (i: number) => boolean): string[] {
  return ids.filter((_, i) => matches(i)).reverse();
}

describe('GET /audit filters', () => {
  it('pages through action=process.kill&since=… in the database, the cursor continuing the filtered list', async () => {
    const since = new Date(START + 100 * 60_000);
    const expected = expectedIds((i) => actionOf(i) === 'process.kill' && atOf(i) >= since);
    expect(expected).toHaveLength(104); // more than two pages of the default limit (50)

    const pages = await allPages(`action=process.kill&since=${since.toISOString()}`);
    expect(pages.map((p) => p.items.length)).toEqual([50, 50, 4]);
    const items = pages.flatMap((p) => p.items);
    expect(items.map((e) => e.id)).toEqual(expected);
    for (const event of items) {
      expect(event.action).toBe('process.kill');
      expect(Date.parse(event.at)).toBeGreaterThanOrEqual(since.getTime());
    }
  });

  it('bounds the time range at both ends, inclusive, with an offset, across small pages', async () => {
    const since = new Date(START + 10 * 60_000);
    const until = new Date(START + 40 * 60_000);
    const expected = expectedIds((i) => atOf(i) >= since && atOf(i) <= until);
    expect(expected).toHaveLength(31);

    // The same instants written with a +02:00 offset.
    const local = (d: Date) =>
      encodeURIComponent(
        new Date(d.getTime() + 2 * 3_600_000).toISOString().slice(0, 19) + '+02:00',
      );
    const pages = await allPages(`since=${local(since)}&until=${local(until)}&limit=7`);
    expect(pages).toHaveLength(5);
    expect(pages.flatMap((p) => p.items.map((e) => e.id))).toEqual(expected);
  });

  it('combines the new filters with actor and agentId', async () => {
    const [kill] = await allPages('action=window.close&actor=alice&agentId=agent-1&limit=500');
    expect(kill?.items.map((e) => e.id)).toEqual(
      expectedIds((i) => actionOf(i) === 'window.close'),
    );
    const [none] = await allPages('action=process.kill&actor=bob');
    expect(none).toEqual({ items: [], nextCursor: null });
  });

  it('accepts instants at the ends of the calendar', async () => {
    for (const query of [
      'since=0000-01-01T00:00:00Z',
      'until=9999-12-31T23:59:59-23:59',
      'since=2026-11-25T00:00:00.123456789%2B05:30',
    ]) {
      const reply = await admin.request('GET', `/api/v1/audit?${query}&limit=1`);
      expect(reply.status, query).toBe(200);
    }
  });

  it('answers a filter of another shape 400 problem+json, never an unfiltered page', async () => {
    for (const query of [
      'actor[]=alice',
      'actor=alice&actor=bob',
      'action[]=process.kill',
      'action=process.kill&action=window.close',
      'since=notadate',
      'since=2026-11-25T10:00', // a local time: which instant is meant is not known
      'until=2026-11-25',
      'agentId[0]=agent-1',
      'acton=process.kill', // a misspelt filter
    ]) {
      const reply = await admin.request('GET', `/api/v1/audit?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.contentType, query).toContain('application/problem+json');
      expect(reply.body, query).toMatchObject({ status: 400, code: 'validation_failed' });
    }
  });
});
