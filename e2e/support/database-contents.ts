/**
 * What backup, recovery and failover tests compare: rows written through the real API (each
 * one audited), and a snapshot of a database's contents — every table's row count and a
 * checksum of the whole audit table.
 */
import { expect } from 'vitest';
import type { ApiClient } from '../../control-api/src/test-support/rest-client.js';
import type { PostgresServer } from './postgres-cluster.js';

/**
 * Creates `count` users named `<prefix>-<i>` and as many agent tokens through the API; each
 * answer is an acknowledged write with its audit row (`user.create` targets the username).
 */
export async function auditedWrites(
  admin: ApiClient,
  prefix: string,
  count: number,
): Promise<string[]> {
  const usernames: string[] = [];
  for (let i = 0; i < count; i++) {
    const username = `${prefix}-${i}`;
    const user = await admin.request('POST', '/api/v1/users', {
      username,
      password: `password-of-${username}`,
      role: i % 2 === 0 ? 'viewer' : 'operator',
    });
    expect(user.status, JSON.stringify(user.body)).toBe(201);
    const token = await admin.request('POST', '/api/v1/agent-tokens', {
      name: `${prefix}-token-${i}`,
    });
    expect(token.status, JSON.stringify(token.body)).toBe(201);
    usernames.push(username);
  }
  return usernames;
}

export interface DatabaseSnapshot {
  rowCounts: Record<string, number>;
  /** md5 over every audit row in id order, all columns. */
  auditChecksum: string;
}

export async function databaseSnapshot(
  server: PostgresServer,
  database: string,
): Promise<DatabaseSnapshot> {
  const tables = await server.query<{ name: string }>(
    `SELECT quote_ident(table_name) AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [],
    database,
  );
  expect(tables.map((t) => t.name)).toContain('audit_events');
  const rowCounts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await server.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${name}`,
      [],
      database,
    );
    rowCounts[name] = Number(row?.n);
  }
  const [sum] = await server.query<{ md5: string | null }>(
    `SELECT md5(coalesce(string_agg(a::text, E'\\n' ORDER BY a.id), '')) AS md5 FROM audit_events a`,
    [],
    database,
  );
  return { rowCounts, auditChecksum: sum?.md5 ?? '' };
}
