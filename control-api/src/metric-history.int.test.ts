import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from './infra/clock.js';
import { silentLogger } from './infra/logger.js';
import { PartitionRepository } from './repositories/history-partitions.js';
import { RetentionRepository } from './repositories/retention.js';
import { HistoryRetention, PARTITION_DAYS_AHEAD } from './services/history-retention.js';
import { MAX_SERIES_PER_ANSWER } from './services/metric-history.js';
import { FakeAgent } from './test-support/fake-agent.js';
import { otlpJson, sdkExport } from './test-support/otlp-exports.js';
import type { ApiClient } from './test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

/** One export of the real OTel SDK: system.cpu.utilization of two CPUs on `host`. */
const cpuExport = (host: string, agentId: string, values: [number, number]) =>
  sdkExport({ 'host.name': host, 'service.instance.id': agentId }, (meter) =>
    meter.createObservableGauge('system.cpu.utilization').addCallback((result) => {
      result.observe(values[0], { 'cpu.logical_number': 0 });
      result.observe(values[1], { 'cpu.logical_number': 1 });
    }),
  );

const protobuf = (metrics: ResourceMetrics) =>
  Buffer.from(ProtobufMetricsSerializer.serializeRequest(metrics)!);

describe('metrics history: OTLP ingest, storage and the history route', () => {
  let api: TestApi;
  let admin: ApiClient;
  let ingestToken: string;
  let viewerToken: string;
  let agent: FakeAgent;
  let db: pg.Pool;

  const ingest = (body: Buffer | string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/v1/metrics`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ingestToken}`,
        'content-type': 'application/x-protobuf',
        ...headers,
      },
      body,
    });

  beforeAll(async () => {
    ({ api, admin } = await startTestApiWithAdmin());
    db = new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
    db.on('error', () => undefined);
    ingestToken = await api.createServiceToken('collector', 'ingest');
    viewerToken = await api.createServiceToken('grafana', 'viewer');
    const agentToken = await api.createAgentToken('history');
    agent = await FakeAgent.start({ url: api.opampUrl, token: agentToken, hostname: 'web-3' });
  });

  afterAll(async () => {
    await agent?.disconnect();
    await db?.end();
    await api?.stop();
  });

  it('keeps what the SDK exports as protobuf, gzip or not, and as JSON', async () => {
    const metrics = await cpuExport('web-3', agent.instanceUid, [0.2, 0.4]);
    const plain = await ingest(protobuf(metrics));
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^application\/x-protobuf/);
    expect((await plain.arrayBuffer()).byteLength).toBe(0); // no partial success to report

    const gzipped = await ingest(gzipSync(protobuf(metrics)), { 'content-encoding': 'gzip' });
    expect(gzipped.status).toBe(200);

    const json = await ingest(Buffer.from(JsonMetricsSerializer.serializeRequest(metrics)!), {
      'content-type': 'application/json',
    });
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual({});

    const { rows } = await db.query<{ host: string; name: string; points: string }>(
      `SELECT s.host, s.name, count(*) AS points FROM system_metrics m
       JOIN metric_series s ON s.id = m.series_id WHERE s.agent_id = $1 GROUP BY 1, 2`,
      [agent.instanceUid],
    );
    // Three exports of two series.
    expect(rows).toEqual([{ host: 'web-3', name: 'system.cpu.utilization', points: '6' }]);
  });

  it('answers a downsampled series: avg and max per step', async () => {
    const agentId = agent.instanceUid;
    for (const values of [
      [0.1, 0.9],
      [0.3, 0.5],
    ] as [number, number][]) {
      expect((await ingest(protobuf(await cpuExport('web-3', agentId, values)))).status).toBe(200);
    }
    const to = new Date(Date.now() + 60_000);
    const from = new Date(to.getTime() - 3_600_000);
    const reply = await admin.request<{
      stepSeconds: number;
      series: { attributes: Record<string, unknown>; points: { avg: number; max: number }[] }[];
    }>(
      'GET',
      `/api/v1/agents/${agentId}/metrics?name=system.cpu.utilization&from=${from.toISOString()}&to=${to.toISOString()}&step=2h`,
    );
    expect(reply.status).toBe(200);
    expect(reply.body.stepSeconds).toBe(7200);
    const cpu0 = reply.body.series.find((s) => s.attributes['cpu.logical_number'] === 0)!;
    const cpu1 = reply.body.series.find((s) => s.attributes['cpu.logical_number'] === 1)!;
    // All five exports of this file fall into the one bucket: 0.2 ×3, 0.1, 0.3 and 0.4 ×3, 0.9, 0.5.
    expect(cpu0.points).toHaveLength(1);
    expect(cpu0.points[0]!.avg).toBeCloseTo((0.2 * 3 + 0.1 + 0.3) / 5, 10);
    expect(cpu0.points[0]!.max).toBeCloseTo(0.3, 10);
    expect(cpu1.points[0]!.max).toBeCloseTo(0.9, 10);

    // A step too fine for the range is raised to keep at most 2000 points a series.
    const fine = await admin.request<{ stepSeconds: number }>(
      'GET',
      `/api/v1/agents/${agentId}/metrics?name=system.cpu.utilization&from=${new Date(to.getTime() - 30 * 86_400_000).toISOString()}&to=${to.toISOString()}&step=1s`,
    );
    expect(fine.body.stepSeconds).toBe(Math.ceil((30 * 86_400) / 2000));

    const viewer = await admin
      .as(viewerToken)
      .request('GET', `/api/v1/agents/${agentId}/metrics?name=system.cpu.utilization`);
    expect(viewer.status).toBe(200);
    const unknownAgent = await admin.request(
      'GET',
      `/api/v1/agents/${randomUUID()}/metrics?name=system.cpu.utilization`,
    );
    expect(unknownAgent.body).toMatchObject({ code: 'no_such_agent' });
    // A range that ends before it starts holds no points (like the audit's since/until).
    const backwards = await admin.request<{ series: unknown[] }>(
      'GET',
      `/api/v1/agents/${agentId}/metrics?name=system.cpu.utilization&from=${to.toISOString()}&to=${from.toISOString()}`,
    );
    expect(backwards.status).toBe(200);
    expect(backwards.body.series).toEqual([]);
    const badStep = await admin.request('GET', `/api/v1/agents/${agentId}/metrics?name=x&step=1y`);
    expect(badStep.body).toMatchObject({ code: 'validation_failed' });
  });

  it('refuses points outside the kept days with OTLP partial success, keeping the others', async () => {
    const body = otlpJson({ 'host.name': 'web-3', 'service.instance.id': agent.instanceUid }, [
      {
        name: 'system.memory.usage',
        kind: 'sum',
        points: [
          { timeMs: Date.now(), value: 1024, asInt: true },
          { timeMs: 1000, value: 2048, asInt: true },
        ],
      },
    ]);
    const reply = await ingest(JSON.stringify(body), { 'content-type': 'application/json' });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({
      partialSuccess: {
        rejectedDataPoints: '1',
        errorMessage: 'points older than HISTORY_RETENTION_DAYS are not kept',
      },
    });
    const { rows } = await db.query(
      `SELECT m.value FROM system_metrics m JOIN metric_series s ON s.id = m.series_id
       WHERE s.agent_id = $1 AND s.name = 'system.memory.usage'`,
      [agent.instanceUid],
    );
    expect(rows).toEqual([{ value: 1024 }]);
  });

  it('says when an answer holds only the first MAX_SERIES_PER_ANSWER series of a metric', async () => {
    const exportOf = (name: string, count: number) =>
      otlpJson({ 'host.name': 'web-3', 'service.instance.id': agent.instanceUid }, [
        {
          name,
          kind: 'gauge',
          points: Array.from({ length: count }, (_, i) => ({
            attributes: { 'test.index': String(i) },
            timeMs: Date.now(),
            value: i,
          })),
        },
      ]);
    const answer = async (name: string) =>
      (
        await admin.request<{ series: unknown[]; truncated: boolean }>(
          'GET',
          `/api/v1/agents/${agent.instanceUid}/metrics?name=${name}`,
        )
      ).body;
    for (const [name, count] of [
      ['test.all_series', MAX_SERIES_PER_ANSWER],
      ['test.one_series_too_many', MAX_SERIES_PER_ANSWER + 1],
    ] as const) {
      const reply = await ingest(JSON.stringify(exportOf(name, count)), {
        'content-type': 'application/json',
      });
      expect(await reply.json()).toEqual({});
    }
    const all = await answer('test.all_series');
    expect([all.series.length, all.truncated]).toEqual([MAX_SERIES_PER_ANSWER, false]);
    const cut = await answer('test.one_series_too_many');
    expect([cut.series.length, cut.truncated]).toEqual([MAX_SERIES_PER_ANSWER, true]);
  });

  it('keeps one series for the same attributes sent in another order', async () => {
    const point = (attributes: [string, string][], value: string) =>
      otlpJson({ 'host.name': 'web-3', 'service.instance.id': agent.instanceUid }, [
        {
          name: 'system.network.io',
          kind: 'sum',
          points: [
            {
              attributes: Object.fromEntries(attributes),
              timeMs: Date.now(),
              value: Number(value),
              asInt: true,
            },
          ],
        },
      ]);
    const direction: [string, string] = ['network.io.direction', 'receive'];
    const device: [string, string] = ['network.interface.name', 'eth0'];
    // The first order, twice (the second is answered by the ingest's cache), then the other.
    for (const [attributes, value] of [
      [[direction, device], '10'],
      [[direction, device], '20'],
      [[device, direction], '30'],
    ] as [[string, string][], string][]) {
      const reply = await ingest(JSON.stringify(point(attributes, value)), {
        'content-type': 'application/json',
      });
      expect(await reply.json()).toEqual({});
    }
    const { rows } = await db.query<{ series: string; values: number[] }>(
      `SELECT count(DISTINCT s.id) AS series, array_agg(m.value ORDER BY m.value) AS values
       FROM system_metrics m JOIN metric_series s ON s.id = m.series_id
       WHERE s.agent_id = $1 AND s.name = 'system.network.io'`,
      [agent.instanceUid],
    );
    expect(rows).toEqual([{ series: '1', values: [10, 20, 30] }]);
  });

  it('refuses callers and bodies it cannot take with problem+json and a stable code', async () => {
    const metrics = protobuf(await cpuExport('web-3', agent.instanceUid, [0.1, 0.1]));
    const noToken = await fetch(`${api.url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: metrics,
    });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const asViewer = await ingest(metrics, { authorization: `Bearer ${viewerToken}` });
    expect(asViewer.status).toBe(401);
    // An ingest token is no REST caller.
    const rest = await admin.as(ingestToken).request('GET', '/api/v1/agents');
    expect(rest.status).toBe(401);

    const malformed = await ingest(Buffer.from([0x0a, 0xff, 0xff, 0x03]));
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'malformed_otlp' });
    const badJson = await ingest('{"resourceMetrics": 3}', { 'content-type': 'application/json' });
    expect(await badJson.json()).toMatchObject({ code: 'malformed_otlp' });
    const text = await ingest('hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    // 17 MiB of zeros gzip to a few KiB: the inflated size is what counts.
    const bomb = await ingest(gzipSync(Buffer.alloc(17 * 1024 * 1024)), {
      'content-encoding': 'gzip',
    });
    expect(bomb.status).toBe(413);
    expect(await bomb.json()).toMatchObject({ code: 'payload_too_large' });
  });

  it('keeps daily partitions ahead and drops the expired ones', async () => {
    const { rows } = await db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'system_metrics'`,
    );
    const names = rows.map((r) => r.name);
    const day = (offset: number) =>
      `system_metrics_p${new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '')}`;
    expect(names).toContain(day(0));
    expect(names).toContain(day(PARTITION_DAYS_AHEAD));
    expect(names).toContain(day(-29));
    expect(names).not.toContain(day(-30));

    // Forty days later, with a 30-day retention: today's partition has expired, with its rows.
    const later: Clock = { now: () => Date.now() + 40 * 86_400_000 };
    const partitions = new HistoryRetention({
      db,
      partitions: new PartitionRepository(db),
      retention: new RetentionRepository(db),
      tables: [{ table: 'system_metrics', retentionDays: 30 }],
      auditRetentionDays: 365,
      clock: later,
      logger: silentLogger,
    });
    const { dropped, created } = await partitions.maintain();
    expect(dropped).toContain(day(0));
    expect(created).toContain(day(40 + PARTITION_DAYS_AHEAD));
    const { rows: left } = await db.query<{ count: string }>(
      `SELECT count(*) FROM metric_series s JOIN system_metrics m ON m.series_id = s.id WHERE s.agent_id = $1`,
      [agent.instanceUid],
    );
    expect(left[0]!.count).toBe('0');
  });
});
