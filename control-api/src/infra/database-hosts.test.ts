import { describe, expect, it } from 'vitest';
import { DatabaseUrlError, needsHostSelection, parseDatabaseUrl } from './database-hosts.js';

describe('parseDatabaseUrl', () => {
  it('reads the hosts of a libpq multi-host URL in order, and target_session_attrs', () => {
    const target = parseDatabaseUrl(
      'postgres://u:p%40ss@db-1:5432,db-2:5433,[::1]/cybercorp?sslmode=require&target_session_attrs=read-write',
    );
    expect(target).toEqual({
      endpoints: [
        { host: 'db-1', port: 5432 },
        { host: 'db-2', port: 5433 },
        { host: '::1', port: 5432 },
      ],
      writable: true,
      baseUrl: 'postgres://u:p%40ss@db-1:5432/cybercorp?sslmode=require',
    });
    expect(needsHostSelection(target)).toBe(true);
  });

  it('takes primary as read-write and any as any host, like libpq', () => {
    expect(parseDatabaseUrl('postgresql://a,b/db?target_session_attrs=primary').writable).toBe(
      true,
    );
    const any = parseDatabaseUrl('postgres://a,b/db');
    expect(any.writable).toBe(false);
    expect(any.endpoints.map((e) => e.host)).toEqual(['a', 'b']);
  });

  it('leaves a one-host URL to node-postgres as it is', () => {
    for (const url of [
      'postgres://u:p@db:5432/cybercorp',
      'postgres:///cybercorp?host=/var/run/postgresql',
      'socket:/var/run/postgresql?db=cybercorp',
    ]) {
      const target = parseDatabaseUrl(url);
      expect(target.baseUrl).toBe(url);
      expect(needsHostSelection(target)).toBe(false);
    }
    expect(
      needsHostSelection(parseDatabaseUrl('postgres://db/x?target_session_attrs=read-write')),
    ).toBe(true);
  });

  it('refuses what it cannot honour, naming it', () => {
    expect(() => parseDatabaseUrl('postgres://a,b/db?target_session_attrs=standby')).toThrow(
      /target_session_attrs=standby is not supported/,
    );
    expect(() => parseDatabaseUrl('postgres://a,b:99999/db')).toThrow(DatabaseUrlError);
    expect(() => parseDatabaseUrl('postgres://a,,b/db')).toThrow(/'' is not a host/);
  });
});
