/**
 * The "Host history" dashboard's SQL, as Grafana's PostgreSQL data source sends it (macros and
 * variables expanded), run on the real history store after known points went through the
 * real OTLP ingest; its events annotation after a real agent was acted on through the API.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent } from '../control-api/src/test-support/fake-agent.js';
import { ApiClient } from '../control-api/src/test-support/rest-client.js';
import { otlpJson } from '../control-api/src/test-support/otlp-exports.js';
import { ADMIN, startTestApi, type TestApi } from '../control-api/src/test-support/test-api.js';
import { startAgent, waitForAgent } from './support/control-stack.js';
import { REPO_ROOT } from './support/otelcol.js';
import { exitOf, spawnSleeper, waitFor } from './support/processes.js';

interface SqlPanel {
  title: string;
  datasource: { type: string; uid: string };
  targets: { rawSql: string; format: string }[];
}
interface SqlAnnotation {
  name: string;
  enable: boolean;
  datasource: { type: string; uid: string };
  target: { rawSql: string; format: string };
}
interface SqlDashboard {
  panels: SqlPanel[];
  annotations: { list: SqlAnnotation[] };
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
  const gauge = (name: string, series: [Record<string, string | number>, number, number][]) => ({
    name,
    kind: 'gauge' as const,
    points: series.flatMap(([attributes, v0, v1]) => [
      { attributes, timeMs: t0, value: v0 },
      { attributes, timeMs: t0 + 60_000, value: v1 },
    ]),
  });
  return otlpJson({ 'host.name': host }, [
    gauge('system.cpu.utilization', [
      [{ 'cpu.mode': 'idle', 'cpu.logical_number': 0 }, 0.75, 0.5],
      [{ 'cpu.mode': 'idle', 'cpu.logical_number': 1 }, 0.25, 0.5],
      [{ 'cpu.mode': 'user', 'cpu.logical_number': 0 }, 0.25, 0.5],
    ]),
    gauge('system.memory.usage', [[{ 'system.memory.state': 'used' }, 6000, 7000]]),
    gauge('system.filesystem.utilization', [
      [{ 'system.filesystem.mountpoint': '/', 'system.filesystem.state': 'used' }, 0.9, 0.9],
      [{ 'system.filesystem.mountpoint': '/data', 'system.filesystem.state': 'used' }, 0.2, 0.3],
    ]),
    gauge('system.network.io', [
      [{ 'network.io.direction': 'receive', 'network.interface.name': 'eth0' }, 0, 6000],
      [{ 'network.io.direction': 'receive', 'network.interface.name': 'eth1' }, 100, 3100],
      [{ 'network.io.direction': 'transmit', 'network.interface.name': 'eth0' }, 0, 600],
    ]),
    gauge('system.cpu.load_average.1m', [[{}, 1.5, 2.5]]),
    gauge('system.cpu.load_average.15m', [[{}, 1, 1]]),
  ]);
}

type Row = { time: Date; metric?: string; [column: string]: unknown };
/** The columns Grafana reads from an annotation query. */
type AnnotationRow = { time: Date; text: string; tags: string };

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

  /** The "Events" annotation query over `[from, to]` for `host`, as Grafana would send it. */
  const annotations = async (host: string, from: Date, to: Date) => {
    const annotation = dashboard.annotations.list.find((a) => a.name === 'Events')!;
    const sql = expandMacros(annotation.target.rawSql, { from, to, intervalMs: 60_000 }, { host });
    return (await db.query(sql)).rows as AnnotationRow[];
  };

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
    expect(dashboard.annotations.list).toEqual([
      expect.objectContaining({
        name: 'Events',
        enable: true,
        datasource: { type: 'grafana-postgresql-datasource', uid: '${datasource}' },
        target: expect.objectContaining({ format: 'table' }),
      }),
    ]);
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

  it("marks the host's events (a kill through the API with actor, outcome and reason, the agent connecting and going away) as annotations, and no other host's", async () => {
    const start = new Date();
    const client = new ApiClient(api.url);
    const adminToken = (await client.login(ADMIN.username, ADMIN.password)).accessToken;
    const admin = client.as(adminToken);
    const act = (agentId: string, pid: number, reason: string) =>
      admin.request<{ code?: string }>(
        'POST',
        `/api/v1/agents/${agentId}/processes/${pid}/actions`,
        { action: 'kill', reason },
      );

    // Another host's agent is acted on too: its events must stay off web-3's panels.
    const other = await FakeAgent.start({
      url: api.opampUrl,
      token: await api.createAgentToken('other-host'),
      hostname: 'db-1',
    });
    expect((await act(other.instanceUid, 4242, 'on another host')).status).toBe(200);
    await other.drop();

    // The real agent (protected-process policy on) reports host.name web-3, the host of the
    // metrics above.
    const agent = startAgent({
      controlUrl: api.opampUrl,
      token: await api.createAgentToken('annotated-host'),
      env: { OTEL_RESOURCE_ATTRIBUTES: 'host.name=web-3' },
    });
    const sleeper = spawnSleeper();
    try {
      const agentId = (
        await waitForAgent(client, adminToken, (a) => a.hostname === 'web-3', {
          process: agent.process,
        })
      ).id as string;
      const exit = exitOf(sleeper);
      expect((await act(agentId, sleeper.pid, 'runaway sleeper')).status).toBe(200);
      expect(await exit).toEqual({ code: null, signal: 'SIGKILL' });
      const refused = await act(agentId, 1, 'not allowed');
      expect(refused.body.code).toBe('protected_process');
    } finally {
      if (sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
      await agent.stop();
    }

    // Presence events are group-committed: wait for the departure to be written.
    const rows = await waitFor('the agent going away in the annotation query', async () => {
      const found = await annotations('web-3', start, new Date(Date.now() + 60_000));
      return found.some((r) => r.tags === 'agent.disconnected') ? found : undefined;
    });
    expect(rows.map((r) => r.tags)).toEqual([
      'agent.connected',
      'process.kill,succeeded',
      'process.kill,failed',
      'agent.disconnected',
    ]);
    const [connected, killed, refused, gone] = rows;
    expect(connected!.text).toBe('agent connected');
    // Must hold 5: the kill done through the API, with who did it, how it ended and why.
    expect(killed!.text).toBe(
      `process.kill ${sleeper.pid} · by admin · succeeded · reason: runaway sleeper`,
    );
    expect(refused!.text).toMatch(
      /^process\.kill 1 · by admin · failed \(protected_process\) · reason: not allowed$/,
    );
    expect(gone!.text).toMatch(/^agent disconnected/);
    // Each marker sits at its event's instant, in order, inside the dashboard's range.
    for (const row of rows) expect(row.time).toBeInstanceOf(Date);
    const times = rows.map((r) => r.time.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(start.getTime() - 1_000);
    expect(rows.map((r) => r.text).join('\n')).not.toContain('on another host');

    // The same query for db-1 shows only db-1's events; a range before them shows nothing.
    const otherRows = await annotations('db-1', start, new Date(Date.now() + 60_000));
    expect(otherRows.map((r) => r.text)).toContain(
      'process.kill 4242 · by admin · succeeded · reason: on another host',
    );
    expect(await annotations('web-3', new Date(start.getTime() - 3_600_000), start)).toEqual([]);
  });
});
