// The metrics history in PostgreSQL, two figures measured against the real control API:
//
// 1. Ingest: points per second through `POST /v1/metrics` (OTLP/HTTP protobuf, gzip, as the
//    Collector's otlphttp exporter sends) into system_metrics, against a plain `COPY
//    system_metrics (time, series_id, value) FROM STDIN` (psql, Debian postgresql-client-15) of
//    the same rows into the same partitioned table on the same PostgreSQL, in the same run.
//    The exports are the agent's own host metrics: its collectors (collector-agent/dist) read this
//    machine's /proc once, and that export is replayed for --hosts hosts (each its host.name and
//    service.instance.id) × --exports intervals 10 s apart. As the Collector's batch processor
//    does, consecutive exports are packed into requests of about 8192 points (all hosts of one
//    interval, then the next), and --senders requests are in flight at once (the otlphttp
//    exporter's queue consumers, 10 by default). The agent's per-process metrics go to the
//    process inventory, not to system_metrics, so they are left out. One untimed pass creates
//    the series first (steady state: every series is known); then each round empties
//    system_metrics (TRUNCATE) before each side, and the sides alternate which goes first.
//    A 503/429 is retried after its Retry-After, as the Collector does, and counted.
//    Budget: ingest / COPY >= 0.5 (medians of the rounds).
//
// 2. Query: p50/p99 of `GET /api/v1/agents/{id}/metrics?name=system.cpu.utilization` over the
//    last 24 h with --step, through the real API, over --query-hosts hosts × every daily
//    partition the retention keeps (HISTORY_RETENTION_DAYS = 30: 29 whole days and today so
//    far) of generated data: system.cpu.utilization as the agent exports it (2 logical CPUs × 7
//    modes = 14 series per host), one point per --interval seconds per series (default 60 s,
//    the agent's 10 s interval kept at a minute's resolution), inserted in time order with
//    `INSERT … SELECT generate_series` straight into each day's partition. --queries sequential
//    requests, each for a random host, with a viewer service token (the REST rate limit is off
//    in the bench's API: 100 a minute would refuse the timed loop). Budget: p99 < 200 ms.
//    Generating the default 60 M rows (~5.4 GB) takes ~10 min on two busy cores.
//
// Usage: npx tsc -b protocol logging collector-agent control-api && node bench/history-ingest/run.mjs
//   [--hosts 200] [--exports 30] [--senders 10] [--rounds 3]
//   [--query-hosts 100] [--interval 60] [--step 300] [--queries 200] [--max-seconds 1500]
//   --rounds 0 leaves out the ingest part, --query-hosts 0 the query part.
// Needs psql (Debian postgresql-client-15, in scripts/setup-deps). Prints a table and one JSON
// line (`{"bench":"history-ingest",...}`). The whole run stops by itself after --max-seconds (and
// on SIGINT/SIGTERM), cleaning up. The bench starts its own embedded PostgreSQL (in this
// process) and one control API child process on it, and stops both by their handles at the end.
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { millisToHrTime } from '@opentelemetry/core';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import pg from 'pg';
import { createProcessTable } from '../../collector-agent/dist/index.js';
import { LinuxHostFiles } from '../../collector-agent/dist/metrics/host-files.linux.js';
import { HostMetricsProducer } from '../../collector-agent/dist/metrics/host-metrics.js';
import { ProcessSnapshot } from '../../collector-agent/dist/metrics/process-snapshot.js';
import { createHostCollectors } from '../../collector-agent/dist/metrics/registry.js';
import { startEmbeddedPostgres } from '../../control-api/dist/infra/embedded-postgres.js';
import { forkApiChild, serveApiChild } from '../lib/api-child.mjs';
import { option } from '../lib/options.mjs';
import { median, percentile } from '../lib/stats.mjs';

const HOSTS = option('--hosts', 200);
const EXPORTS = option('--exports', 30);
const SENDERS = option('--senders', 10);
const ROUNDS = option('--rounds', 3);
const QUERY_HOSTS = option('--query-hosts', 100);
const INTERVAL_SECONDS = option('--interval', 60);
const STEP_SECONDS = option('--step', 300);
const QUERIES = option('--queries', 200);
const MAX_SECONDS = option('--max-seconds', 1500);

const EXPORT_INTERVAL_MS = 10_000;
/** The Collector's batch processor: send_batch_size 8192 (otel-config/collector.yaml). */
const POINTS_PER_REQUEST = 8192;
const MAX_ATTEMPTS = 5;
const INGEST_BUDGET_RATIO = 0.5;
const QUERY_BUDGET_MS = 200;
const CPU_METRIC = 'system.cpu.utilization';
const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'interrupt', 'steal'];
const LOGICAL_CPUS = 2;
const DAY_MS = 86_400_000;

/**
 * The API child: on the bench's PostgreSQL (DATABASE_URL in its environment), with an ingest and
 * a viewer token. The REST rate limit (100 requests a minute per principal) is off: the queries
 * are timed one after another, far faster than a viewer's dashboard asks.
 */
if (process.argv[2] === '--api-child') {
  await serveApiChild({ rateLimitPerMinute: 0 }, async (api) => ({
    url: api.url,
    ingestToken: await api.createServiceToken('bench-collector', 'ingest'),
    viewerToken: await api.createServiceToken('bench-viewer', 'viewer'),
  }));
}

/** One export of the agent's host collectors on this machine (the second: CPU has a baseline). */
async function agentHostMetrics() {
  const snapshot = new ProcessSnapshot(createProcessTable());
  const producer = new HostMetricsProducer(
    createHostCollectors({ files: new LinuxHostFiles(), snapshot, reportError: () => undefined }),
  );
  await producer.collect();
  await new Promise((done) => setTimeout(done, 200));
  const { resourceMetrics, errors } = await producer.collect();
  if (errors.length > 0) throw new Error(`the agent's collectors failed: ${String(errors[0])}`);
  return resourceMetrics.scopeMetrics;
}

/** The host's export at `atMs`, as the agent's SDK serializes it (ExportMetricsServiceRequest). */
function hostExport(scopeMetrics, host, atMs) {
  const endTime = millisToHrTime(atMs);
  const resourceMetrics = {
    resource: resourceFromAttributes({
      'service.name': 'cybercorp-agent',
      'host.name': host.name,
      'os.type': 'linux',
      'service.instance.id': host.id,
    }),
    scopeMetrics: scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((metric) => ({
        ...metric,
        dataPoints: metric.dataPoints.map((point) => ({ ...point, endTime })),
      })),
    })),
  };
  return ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
}

/**
 * Request bodies of `exports` intervals of every host, ending at `endMs`: exports packed in time
 * order into gzipped requests of about POINTS_PER_REQUEST points. Concatenated requests are one
 * request holding all their resource_metrics (protobuf merges repeated fields), which is what
 * the Collector sends after batching several agents' exports.
 */
function requestBodies(scopeMetrics, hosts, exports, endMs) {
  const pointsPerExport = scopeMetrics
    .flatMap((scope) => scope.metrics)
    .reduce((total, metric) => total + metric.dataPoints.length, 0);
  const bodies = [];
  let parts = [];
  let points = 0;
  const flush = () => {
    if (parts.length === 0) return;
    bodies.push({ gzipped: gzipSync(Buffer.concat(parts)), points });
    parts = [];
    points = 0;
  };
  for (let k = 0; k < exports; k++) {
    const atMs = endMs - (exports - 1 - k) * EXPORT_INTERVAL_MS;
    for (const host of hosts) {
      parts.push(hostExport(scopeMetrics, host, atMs));
      points += pointsPerExport;
      if (points + pointsPerExport > POINTS_PER_REQUEST) flush();
    }
  }
  flush();
  return { bodies, points: bodies.reduce((total, body) => total + body.points, 0) };
}

/**
 * Sends every body with `SENDERS` requests in flight. As the Collector's otlphttp exporter, a
 * 503 or 429 is retried after its Retry-After (at most MAX_ATTEMPTS times); the retries are
 * counted, since they are time the ingest could not keep up. Any other refusal, or a partial
 * success, fails the run.
 */
async function sendAll(url, token, bodies) {
  let next = 0;
  let retries = 0;
  const send = async (body) => {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(`${url}/v1/metrics`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-protobuf',
          'content-encoding': 'gzip',
        },
        body: body.gzipped,
      });
      const answer = Buffer.from(await response.arrayBuffer());
      const retryable = response.status === 503 || response.status === 429;
      if (retryable && attempt < MAX_ATTEMPTS) {
        retries++;
        const seconds = Number(response.headers.get('retry-after') ?? 1);
        await new Promise((done) => setTimeout(done, seconds * 1000));
        continue;
      }
      // An empty ExportMetricsServiceResponse: nothing refused.
      if (response.status !== 200 || answer.length > 0) {
        throw new Error(`POST /v1/metrics: ${response.status} ${answer.toString().slice(0, 300)}`);
      }
      return;
    }
  };
  const sender = async () => {
    while (next < bodies.length) await send(bodies[next++]);
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  return retries;
}

/** psql (Debian postgresql-client-15) on `databaseUrl`, the password in its environment only. */
function psql(databaseUrl, command, io = {}) {
  const url = new URL(databaseUrl);
  const child = spawn(
    'psql',
    [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      url.hostname,
      '-p',
      url.port,
      '-U',
      decodeURIComponent(url.username),
      '-d',
      url.pathname.slice(1) || 'postgres',
      '-c',
      command,
    ],
    {
      stdio: [io.stdin ? 'pipe' : 'ignore', io.stdout ? 'pipe' : 'ignore', 'pipe'],
      env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) },
    },
  );
  children.add(child);
  let errors = '';
  child.stderr.on('data', (chunk) => (errors += chunk.toString()));
  const exited = new Promise((done, fail) => {
    child.once('error', (error) =>
      fail(new Error(`cannot run psql (Debian package postgresql-client-15): ${error.message}`)),
    );
    child.once('exit', (code) => {
      children.delete(child);
      if (code === 0) done();
      else fail(new Error(`psql exited with ${code}: ${errors.trim()}`));
    });
  });
  const streams = [
    io.stdin ? pipeline(io.stdin, child.stdin) : undefined,
    io.stdout ? pipeline(child.stdout, io.stdout) : undefined,
  ];
  return Promise.all([exited, ...streams]);
}

async function rowCount(db) {
  const { rows } = await db.query('SELECT count(*)::bigint AS count FROM system_metrics');
  return Number(rows[0].count);
}

/** Empties system_metrics and checkpoints, so each side starts from the same table and WAL. */
async function emptyHistory(db) {
  await db.query('TRUNCATE system_metrics');
  await db.query('CHECKPOINT');
}

async function measureIngest(db, api, databaseUrl) {
  const scopeMetrics = await agentHostMetrics();
  const hosts = Array.from({ length: HOSTS }, (_, i) => ({
    name: `bench-host-${i}`,
    id: randomUUID(),
  }));
  const endMs = Date.now();
  const warmUp = requestBodies(scopeMetrics, hosts, 1, endMs - EXPORTS * EXPORT_INTERVAL_MS);
  const load = requestBodies(scopeMetrics, hosts, EXPORTS, endMs);
  const hostPoints = load.points / HOSTS / EXPORTS;
  const seriesNames = new Set(scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name)));
  console.log(
    `ingest: ${HOSTS} hosts × ${EXPORTS} exports of ${hostPoints} points (${seriesNames.size} metrics of the agent's host collectors) = ${load.points} points in ${load.bodies.length} gzipped protobuf requests (${(load.bodies.reduce((t, b) => t + b.gzipped.length, 0) / load.bodies.length / 1024).toFixed(1)} KiB each), ${SENDERS} senders`,
  );
  await sendAll(api.url, api.ingestToken, warmUp.bodies);

  const rowsFile = join(workDir, 'rows.copy');
  const ingestRates = [];
  const copyRates = [];
  let retries = 0;
  const runIngest = async () => {
    await emptyHistory(db);
    const start = performance.now();
    retries += await sendAll(api.url, api.ingestToken, load.bodies);
    const seconds = (performance.now() - start) / 1000;
    const stored = await rowCount(db);
    if (stored !== load.points) throw new Error(`ingest stored ${stored} of ${load.points} points`);
    ingestRates.push(load.points / seconds);
  };
  const runCopy = async () => {
    await emptyHistory(db);
    const start = performance.now();
    await psql(databaseUrl, 'COPY system_metrics (time, series_id, value) FROM STDIN', {
      stdin: createReadStream(rowsFile),
    });
    const seconds = (performance.now() - start) / 1000;
    const stored = await rowCount(db);
    if (stored !== load.points) throw new Error(`COPY stored ${stored} of ${load.points} rows`);
    copyRates.push(load.points / seconds);
  };
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      await runIngest();
      // The rows the ingest wrote are the ones COPY writes.
      if (round === 0) {
        await psql(
          databaseUrl,
          'COPY (SELECT time, series_id, value FROM system_metrics) TO STDOUT',
          {
            stdout: createWriteStream(rowsFile),
          },
        );
      }
      await runCopy();
    } else {
      await runCopy();
      await runIngest();
    }
    console.log(
      `-- round ${round + 1}: ingest ${ingestRates.at(-1).toFixed(0)} points/s, COPY ${copyRates.at(-1).toFixed(0)} rows/s`,
    );
  }
  await emptyHistory(db);
  const ingest = median(ingestRates);
  const copy = median(copyRates);
  return {
    hosts: HOSTS,
    exports: EXPORTS,
    pointsPerHostExport: hostPoints,
    points: load.points,
    requests: load.bodies.length,
    senders: SENDERS,
    rounds: ROUNDS,
    ingestPointsPerSecond: ingest,
    copyRowsPerSecond: copy,
    ratio: ingest / copy,
    perRound: ingestRates.map((rate, i) => rate / copyRates[i]),
    retries,
  };
}

/** The query hosts: agents (the route answers known agents only) with their CPU series. */
async function createQueryHosts(db) {
  const agents = Array.from({ length: QUERY_HOSTS }, (_, i) => ({
    id: randomUUID(),
    host: `history-host-${i}`,
  }));
  await db.query(
    `INSERT INTO agents (id, hostname, transport, first_seen_at, last_seen_at)
     SELECT id, host, 'websocket', now(), now() FROM unnest($1::uuid[], $2::text[]) AS a(id, host)`,
    [agents.map((a) => a.id), agents.map((a) => a.host)],
  );
  const keys = agents.flatMap((agent) =>
    CPU_MODES.flatMap((mode) =>
      Array.from({ length: LOGICAL_CPUS }, (_, cpu) => ({
        agent,
        attributes: { 'cpu.logical_number': cpu, 'cpu.mode': mode },
      })),
    ),
  );
  const { rows } = await db.query(
    `INSERT INTO metric_series (fingerprint, host, agent_id, name, attributes)
     SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
     RETURNING id`,
    [
      keys.map((k) =>
        createHash('sha256')
          .update(JSON.stringify([k.agent.host, k.agent.id, CPU_METRIC, k.attributes]))
          .digest(),
      ),
      keys.map((k) => k.agent.host),
      keys.map((k) => k.agent.id),
      keys.map(() => CPU_METRIC),
      keys.map((k) => JSON.stringify(k.attributes)),
    ],
  );
  return { agents, seriesIds: rows.map((row) => row.id) };
}

/** Every existing daily partition of system_metrics up to now, filled at INTERVAL_SECONDS. */
async function generateHistory(db, seriesIds) {
  const { rows: partitions } = await db.query(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = 'system_metrics' ORDER BY c.relname`,
  );
  const nowMs = Date.now();
  const days = partitions
    .map(({ name, bound }) => {
      const [from, to] = [...bound.matchAll(/'([^']+)'/g)].map((m) => new Date(m[1]));
      return { name, from, to: new Date(Math.min(to.getTime(), nowMs)) };
    })
    .filter((day) => day.from.getTime() < nowMs);
  const start = performance.now();
  // Two days at a time, on the pool's two connections (the machine has two cores).
  let next = 0;
  const fill = async () => {
    while (next < days.length) await fillDay(days[next++]);
  };
  const fillDay = async (day) => {
    if (!/^system_metrics_p\d{8}$/.test(day.name)) throw new Error(`unexpected ${day.name}`);
    // Time-major, as the ingest writes them: every series' point of one minute, then the next.
    await db.query(
      `INSERT INTO ${day.name} (time, series_id, value)
       SELECT t, s.id, random() FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 microsecond', make_interval(secs => $3)) AS t
       CROSS JOIN (SELECT id FROM unnest($4::bigint[]) AS id ORDER BY id) AS s`,
      [day.from, day.to, INTERVAL_SECONDS, seriesIds],
    );
  };
  await Promise.all([fill(), fill()]);
  await db.query('VACUUM ANALYZE system_metrics');
  await db.query('ANALYZE metric_series');
  const rows = await rowCount(db);
  const { rows: size } = await db.query(
    `SELECT pg_size_pretty(sum(pg_total_relation_size(i.inhrelid))) AS size
     FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'system_metrics'`,
  );
  return {
    partitions: days.length,
    rows,
    size: size[0].size,
    seconds: (performance.now() - start) / 1000,
    from: days[0].from,
  };
}

async function measureQuery(db, api) {
  const { agents, seriesIds } = await createQueryHosts(db);
  const generated = await generateHistory(db, seriesIds);
  console.log(
    `query: ${QUERY_HOSTS} hosts × ${CPU_MODES.length * LOGICAL_CPUS} ${CPU_METRIC} series, one point per ${INTERVAL_SECONDS} s from ${generated.from.toISOString()} to now: ${generated.rows} rows in ${generated.partitions} daily partitions (${generated.size}, generated in ${generated.seconds.toFixed(0)} s)`,
  );
  const get = async (agent) => {
    const to = new Date();
    const from = new Date(to.getTime() - DAY_MS);
    const path = `/api/v1/agents/${agent.id}/metrics?name=${CPU_METRIC}&from=${from.toISOString()}&to=${to.toISOString()}&step=${STEP_SECONDS}s`;
    const start = performance.now();
    const response = await fetch(`${api.url}${path}`, {
      headers: { authorization: `Bearer ${api.viewerToken}` },
    });
    const body = await response.json();
    const elapsed = performance.now() - start;
    if (response.status !== 200) {
      throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
    }
    return { elapsed, body };
  };
  // Warm-up, and a check that the answer holds the whole day.
  const { body } = await get(agents[0]);
  const points = body.series.reduce((total, s) => total + s.points.length, 0);
  const expectedBuckets = Math.floor(DAY_MS / 1000 / body.stepSeconds);
  if (body.series.length !== CPU_MODES.length * LOGICAL_CPUS || points < expectedBuckets) {
    throw new Error(`the answer holds ${body.series.length} series of ${points} points`);
  }
  for (let i = 0; i < 10; i++) await get(agents[i % agents.length]);
  const latencies = [];
  for (let i = 0; i < QUERIES; i++) {
    latencies.push((await get(agents[Math.floor(Math.random() * agents.length)])).elapsed);
  }
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  return {
    hosts: QUERY_HOSTS,
    seriesPerHost: CPU_MODES.length * LOGICAL_CPUS,
    intervalSeconds: INTERVAL_SECONDS,
    partitions: generated.partitions,
    rows: generated.rows,
    size: generated.size,
    stepSeconds: body.stepSeconds,
    pointsPerAnswer: points,
    queries: QUERIES,
    p50Ms: p50,
    p99Ms: p99,
    ratioToBudget: p99 / QUERY_BUDGET_MS,
  };
}

/** Processes this bench spawned (psql), ended by their handles on the way out. */
const children = new Set();
const workDir = mkdtempSync(join(tmpdir(), 'cybercorp-bench-history-'));
let database;
let api;
let db;
const cleanUp = async () => {
  for (const child of children) child.kill('SIGKILL');
  await db?.end().catch(() => undefined);
  await api?.close();
  await database?.stop();
  rmSync(workDir, { recursive: true, force: true });
};
const stopEarly = (why, code) => {
  console.error(`history-ingest: ${why}; stopping`);
  cleanUp().finally(() => process.exit(code));
};
const deadline = setTimeout(
  () => stopEarly(`--max-seconds ${MAX_SECONDS} passed`, 2),
  MAX_SECONDS * 1000,
);
deadline.unref();
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stopEarly(signal, 130));

try {
  database = await startEmbeddedPostgres(join(workDir, 'postgres'));
  api = await forkApiChild(import.meta.url, {}, { DATABASE_URL: database.url });
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  db.on('error', () => undefined);
  // --rounds 0 or --query-hosts 0 leaves that part out.
  const ingest = ROUNDS > 0 ? await measureIngest(db, api, database.url) : undefined;
  const query = QUERY_HOSTS > 0 ? await measureQuery(db, api) : undefined;

  const table = [['figure', 'measured', 'baseline / budget', 'ratio']];
  if (ingest) {
    table.push([
      'ingest points/s',
      ingest.ingestPointsPerSecond.toFixed(0),
      `COPY ${ingest.copyRowsPerSecond.toFixed(0)} rows/s`,
      `${ingest.ratio.toFixed(3)} (budget >= ${INGEST_BUDGET_RATIO}) ${ingest.ratio >= INGEST_BUDGET_RATIO ? 'OK' : 'UNDER'}`,
    ]);
  }
  if (query) {
    table.push(['24 h query p50', `${query.p50Ms.toFixed(1)} ms`, '', '']);
    table.push([
      '24 h query p99',
      `${query.p99Ms.toFixed(1)} ms`,
      `< ${QUERY_BUDGET_MS} ms`,
      `${query.ratioToBudget.toFixed(3)} ${query.p99Ms < QUERY_BUDGET_MS ? 'OK' : 'OVER'}`,
    ]);
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
  if (ingest) {
    console.log(
      `ingest / COPY per round: ${ingest.perRound.map((r) => r.toFixed(3)).join(', ')}; requests retried after a 503: ${ingest.retries}`,
    );
  }
  if (query) {
    console.log(`${query.pointsPerAnswer} points per answer (step ${query.stepSeconds} s)`);
  }
  console.log(JSON.stringify({ bench: 'history-ingest', ingest, query }));
} finally {
  clearTimeout(deadline);
  await cleanUp();
}
