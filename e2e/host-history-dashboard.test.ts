/**
 * The "Host history" dashboard's SQL, as Grafana's PostgreSQL data source sends it (macros and
 * variables expanded), run on the real history store after known points went through the
 * real OTLP ingest.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../control-api/src/test-support/test-api.js';
import { REPO_ROOT } from './support/otelcol.js';

interface SqlPanel {
  title: string;
  datasource: { type: string; uid: string };
  targets: { rawSql: string; format: string }[];
}
interface SqlDashboard {
  panels: SqlPanel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

const dashboard = JSON.parse(
  readFileSync(resolve(REPO_ROOT, 'grafana-app-plugin/src/dashboards/host-history.json'), 'utf8'),
) as SqlDashboard;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Grafana's PostgreSQL macros (https://grafana.com/docs/grafana/latest/datasources/postgres/):
 * $__timeFilter(c) → c BETWEEN from AND to; $__timeGroup(c, i) → floor(epoch/i)*i as a
 * timestamp; $__timeGroupAlias adds AS "time"; $__interval and $__interval_ms; `$var`.
 */
function expandMacros(
  sql: string,
  range: { from: Date; to: Date; intervalMs: number },
  variables: Record<string, string>,
): string {
  const seconds = (interval: string) => {
    const match = /^(\d+)(ms|s|m|h|d)$/.exec(interval.trim().replace(/'/g, ''));
    if (!match) throw new Error(`not an interval: ${interval}`);
    return (Number(match[1]) * UNIT_MS[match[2]!]!) / 1000;
  };
  const group = (column: string, interval: string) =>
    `to_timestamp(floor(extract(epoch from ${column})/${seconds(interval)})*${seconds(interval)})`;
  let out = sql
    .replaceAll('$__interval_ms', String(range.intervalMs))
    .replaceAll('$__interval', `${range.intervalMs / 1000}s`)
    .replace(
      /\$__timeGroupAlias\(([^,]+),([^)]+)\)/g,
      (_m, c: string, i: string) => `${group(c, i)} AS "time"`,
    )
    .replace(/\$__timeGroup\(([^,]+),([^)]+)\)/g, (_m, c: string, i: string) => group(c, i))
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_m, c: string) =>
        `${c} BETWEEN '${range.from.toISOString()}' AND '${range.to.toISOString()}'`,
    );
  for (const [name, value] of Object.entries(variables)) out = out.replaceAll(`$${name}`, value);
  if (/\$\w/.test(out)) throw new Error(`unexpanded variable in: ${out}`);
  return out;
}

/** OTLP/JSON of one host's points at two instants a minute apart. */
function hostExport(host: string, t0: number) {
  const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);
  const attrs = (entries: Record<string, string | number>) =>
    Object.entries(entries).map(([key, v]) => ({
      key,
      value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v },
    }));
  const gauge = (name: string, points: [Record<string, string | number>, number, number][]) => ({
    name,
    gauge: {
      dataPoints: points.flatMap(([a, v0, v1]) => [
        { attributes: attrs(a), timeUnixNano: ns(t0), asDouble: v0 },
        { attributes: attrs(a), timeUnixNano: ns(t0 + 60_000), asDouble: v1 },
      ]),
    },
  });
  return {
    resourceMetrics: [
      {
        resource: { attributes: attrs({ 'host.name': host }) },
        scopeMetrics: [
          {
            metrics: [
              gauge('system.cpu.utilization', [
                [{ 'cpu.mode': 'idle', 'cpu.logical_number': 0 }, 0.75, 0.5],
                [{ 'cpu.mode': 'idle', 'cpu.logical_number': 1 }, 0.25, 0.5],
                [{ 'cpu.mode': 'user', 'cpu.logical_number': 0 }, 0.25, 0.5],
              ]),
              gauge('system.memory.usage', [[{ 'system.memory.state': 'used' }, 6000, 7000]]),
              gauge('system.filesystem.utilization', [
                [
                  { 'system.filesystem.mountpoint': '/', 'system.filesystem.state': 'used' },
                  0.9,
                  0.9,
                ],
                [
                  { 'system.filesystem.mountpoint': '/data', 'system.filesystem.state': 'used' },
                  0.2,
                  0.3,
                ],
              ]),
              gauge('system.network.io', [
                [{ 'network.io.direction': 'receive', 'network.interface.name': 'eth0' }, 0, 6000],
                [
                  { 'network.io.direction': 'receive', 'network.interface.name': 'eth1' },
                  100,
                  3100,
                ],
                [{ 'network.io.direction': 'transmit', 'network.interface.name': 'eth0' }, 0, 600],
              ]),
              gauge('system.cpu.load_average.1m', [[{}, 1.5, 2.5]]),
              gauge('system.cpu.load_average.15m', [[{}, 1, 1]]),
            ],
          },
        ],
      },
    ],
  };
}

type Row = { time: Date; metric?: string; [column: string]: unknown };

describe('the Host history dashboard on the real history store', () => {
  let api: TestApi;
  let db: pg.Pool;
  // Two whole minutes, so each instant falls in a bucket of its own.
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 180_000;
  const range = { from: new Date(t0 - 60_000), to: new Date(t0 + 120_000), intervalMs: 60_000 };

  const run = async (title: string) => {
    const panel = dashboard.panels.find((p) => p.title === title)!;
    const sql = expandMacros(panel.targets[0]!.rawSql, range, { host: 'web-3' });
    return (await db.query(sql)).rows as Row[];
  };
  const at = (rows: Row[], ms: number) => rows.filter((r) => r.time.getTime() === ms);

  beforeAll(async () => {
    api = await startTestApi();
    db = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
    db.on('error', () => undefined);
    const token = await api.createServiceToken('collector', 'ingest');
    for (const host of ['web-3', 'db-1']) {
      const reply = await fetch(`${api.url}/v1/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(hostExport(host, t0)),
      });
      expect(reply.status).toBe(200);
    }
  });

  afterAll(async () => {
    await db?.end();
    await api?.stop();
  });

  it('queries every panel through the ${datasource} PostgreSQL variable, host from $host', () => {
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(variables.datasource).toMatchObject({
      type: 'datasource',
      query: 'grafana-postgresql-datasource',
    });
    for (const panel of dashboard.panels) {
      expect(panel.datasource, panel.title).toEqual({
        type: 'grafana-postgresql-datasource',
        uid: '${datasource}',
      });
      expect(panel.targets[0]!.rawSql, panel.title).toContain("s.host = '$host'");
      expect(panel.targets[0]!.rawSql, panel.title).toMatch(/\$__timeGroup/);
    }
  });

  it('lists the hosts of the history in the $host variable', async () => {
    const hosts = dashboard.templating.list.find((v) => v.name === 'host')!.query as string;
    expect((await db.query(hosts)).rows).toEqual([{ host: 'db-1' }, { host: 'web-3' }]);
  });

  it('computes CPU busy, memory, filesystems, network and load per interval', async () => {
    const cpu = await run('CPU busy');
    expect(at(cpu, t0)[0]!['CPU busy']).toBeCloseTo(0.5, 10);
    expect(at(cpu, t0 + 60_000)[0]!['CPU busy']).toBeCloseTo(0.5, 10);

    const memory = await run('Memory used');
    expect(memory.map((r) => r.used)).toEqual([6000, 7000]);

    const filesystems = await run('Filesystem utilization');
    expect(at(filesystems, t0 + 60_000).map((r) => [r.metric, r.value])).toEqual(
      expect.arrayContaining([
        ['/', 0.9],
        ['/data', 0.3],
      ]),
    );

    // receive: eth0 0→6000 and eth1 100→3100, 9000 bytes in 60 s; the first interval has no rate.
    const network = await run('Network throughput');
    const receive = network.filter((r) => r.metric === 'receive');
    expect(receive.map((r) => r.value)).toEqual([null, 150]);
    expect(network.find((r) => r.metric === 'transmit' && r.value !== null)?.value).toBe(10);

    const load = await run('Load average');
    expect(at(load, t0 + 60_000).map((r) => [r.metric, r.value])).toEqual(
      expect.arrayContaining([
        ['1m', 2.5],
        ['15m', 1],
      ]),
    );
  });
});
