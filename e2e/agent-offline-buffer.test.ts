/**
 * Issue 12, must-hold 3 (Prometheus and the agent): real `cybercorp-agent` processes (the dist
 * build, telemetry only, protected policy on) export every second over OTLP gRPC to the
 * Collector built from otel-config/, which remote-writes into a real Prometheus running with
 * the project's prometheus/prometheus.yml settings (its out-of-order window among them). The
 * Collector is stopped for 60 s and started again on the same ports:
 *  - an agent with the default buffer, in memory, and one spooling to files under its state
 *    directory: Prometheus then has their samples for the outage minute, without a gap larger
 *    than about two export intervals;
 *  - an agent whose buffer (CYBERCORP_BUFFER_MAX_BYTES) holds only a few intervals: it keeps
 *    within that bound (its own self-metric, and its RSS does not grow), keeps the newest
 *    intervals, and reports how many it dropped in a log line and in its counter.
 * The spooled agent also starts with a two-hour-old batch in its spool, as an earlier run that
 * stopped during an outage leaves it: it is sent first, and Prometheus takes it thanks to the
 * out-of-order window. One outage serves all three agents: the file takes about two minutes.
 * The Collector also runs its history pipeline into a real control API's OTLP ingest, so the
 * PostgreSQL history must have the outage minute too.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { encodeBatch } from '../collector-agent/src/metrics/batch-codec.js';
import { SPOOL_DIRECTORY_NAME } from '../collector-agent/src/metrics/batch-spool.js';
import { literalBatch } from '../collector-agent/src/metrics/test-support/fixtures.js';
import { startTestApi, type TestApi } from '../control-api/src/test-support/test-api.js';
import { AGENT_BIN } from './support/control-stack.js';
import {
  buildCollector,
  COLLECTOR_BUILD_TIMEOUT_MS,
  REPO_ROOT,
  startCollector,
} from './support/otelcol.js';
import {
  freePort,
  requireBinary,
  rssBytes,
  startProcess,
  waitFor,
  type StartedProcess,
} from './support/processes.js';
import {
  queryPrometheus,
  rawSamples,
  startPrometheus,
  type RunningServer,
} from './support/prometheus.js';

const INTERVAL_MS = 1_000;
const OUTAGE_MS = 60_000;
/** A few of this host's batches (one is about 26 KB encoded): far less than the outage. */
const TINY_BUFFER_BYTES = 100_000;
const RUN = `${process.pid}`;
/** host.name of a batch an earlier run of the spooled agent left in its spool. */
const EARLIER_HOST = `e2e-buffer-earlier-${RUN}`;
/** Its age: past what Prometheus takes without an out-of-order window (an hour), within 4h. */
const EARLIER_AGE_S = 2 * 3600;

type AgentName = 'memory' | 'spooled' | 'tiny';
const HOSTS: Record<AgentName, string> = {
  memory: `e2e-buffer-memory-${RUN}`,
  spooled: `e2e-buffer-spooled-${RUN}`,
  tiny: `e2e-buffer-tiny-${RUN}`,
};

/**
 * The project's prometheus.yml with what names compose hosts (scrape targets, Alertmanager)
 * left out and the rule glob made absolute: its global and storage settings as shipped.
 */
function projectPrometheusConfig(): string {
  const shipped = parse(
    readFileSync(resolve(REPO_ROOT, 'prometheus/prometheus.yml'), 'utf8'),
  ) as Record<string, unknown> & { storage?: { tsdb?: { out_of_order_time_window?: string } } };
  if (!shipped.storage?.tsdb?.out_of_order_time_window) {
    throw new Error('prometheus/prometheus.yml sets no storage.tsdb.out_of_order_time_window');
  }
  const { alerting: _alerting, scrape_configs: _scrapes, ...kept } = shipped;
  return stringify({ ...kept, rule_files: [resolve(REPO_ROOT, 'prometheus/rules/*.yml')] });
}

/** A one-point batch as the agent's spool holds it: `system.uptime` of `host` at `atSeconds`. */
function spooledBatch(host: string, atSeconds: number): Buffer {
  return encodeBatch(literalBatch(atSeconds, 4242, { host, startSecond: atSeconds }));
}

/** The largest distance between consecutive timestamps, and how many there were. */
function largestGap(timestamps: number[]): { gap: number; count: number } {
  let gap = 0;
  for (let i = 1; i < timestamps.length; i++)
    gap = Math.max(gap, timestamps[i]! - timestamps[i - 1]!);
  return { gap, count: timestamps.length };
}

describe('agent offline buffer: Collector outage → Prometheus without a gap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-offline-buffer-'));
  let collectorBinary: string;
  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  let prometheus: RunningServer | undefined;
  let remoteWriteUrl: string;
  let api: TestApi | undefined;
  let history: { endpoint: string; token: string };
  const agents = new Map<AgentName, StartedProcess>();
  const stateDir = (name: AgentName) => join(dir, `state-${name}`);
  /** Unix seconds. */
  let stoppedAt = 0;
  let restartedAt = 0;
  const tinyRss: number[] = [];
  let spoolFilesDuringOutage: string[] = [];
  const earlierAt = Math.floor(Date.now() / 1000) - EARLIER_AGE_S;

  const agent = (name: AgentName) => {
    const started = agents.get(name);
    if (!started) throw new Error(`agent ${name} did not start`);
    return started;
  };
  const prom = () => {
    if (!prometheus) throw new Error('Prometheus did not start');
    return prometheus.url;
  };
  const latest = async (promql: string) => {
    const [sample] = await queryPrometheus(prom(), promql);
    return sample === undefined ? undefined : Number(sample.value[1]);
  };

  beforeAll(async () => {
    requireBinary('prometheus', 'Debian package prometheus; run scripts/setup-deps');
    requireBinary('go', 'Go toolchain, needed by scripts/build-otelcol to build the Collector');
    collectorBinary = await buildCollector();
    const prometheusPort = await freePort();
    remoteWriteUrl = `http://127.0.0.1:${prometheusPort}/api/v1/write`;
    api = await startTestApi();
    history = { endpoint: api.url, token: await api.createServiceToken('collector', 'ingest') };
    collector = await startCollector(collectorBinary, remoteWriteUrl, undefined, { history });
    writeFileSync(join(dir, 'prometheus.yml'), projectPrometheusConfig());
    prometheus = await startPrometheus(join(dir, 'prometheus.yml'), dir, prometheusPort);

    const config = join(dir, 'agent.yaml');
    writeFileSync(
      config,
      stringify({ control: { enabled: true }, protected: { names: ['sshd'], users: ['root'] } }),
    );
    const earlierSpool = join(stateDir('spooled'), SPOOL_DIRECTORY_NAME);
    mkdirSync(earlierSpool, { recursive: true, mode: 0o700 });
    writeFileSync(
      join(earlierSpool, '0000000000000001.json'),
      spooledBatch(EARLIER_HOST, earlierAt),
      {
        mode: 0o600,
      },
    );
    const buffers: Record<AgentName, NodeJS.ProcessEnv> = {
      memory: {},
      spooled: { CYBERCORP_BUFFER_SPOOL: 'file' },
      tiny: { CYBERCORP_BUFFER_MAX_BYTES: String(TINY_BUFFER_BYTES) },
    };
    for (const name of Object.keys(HOSTS) as AgentName[]) {
      agents.set(
        name,
        startProcess(process.execPath, [AGENT_BIN, '--config', config], {
          name: `cybercorp-agent (${name})`,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            CYBERCORP_CONTROL_URL: '',
            CYBERCORP_AGENT_STATE_DIR: stateDir(name),
            OTEL_EXPORTER_OTLP_ENDPOINT: `http://${collector.grpcEndpoint}`,
            OTEL_METRIC_EXPORT_INTERVAL: String(INTERVAL_MS),
            OTEL_RESOURCE_ATTRIBUTES: `host.name=${HOSTS[name]}`,
            ...buffers[name],
          },
        }),
      );
    }
    for (const name of agents.keys()) {
      await waitFor(
        `samples of the ${name} agent in Prometheus`,
        async () =>
          ((await latest(`system_uptime_seconds{host_name="${HOSTS[name]}"}`)) ?? 0) > 0 ||
          undefined,
        { timeoutMs: 60_000, intervalMs: 500, process: agent(name) },
      );
    }
  }, COLLECTOR_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const started of agents.values()) await started.stop();
    await collector?.stop();
    await prometheus?.stop();
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a two-hour-old batch an earlier run left in the spool is sent at start, and Prometheus keeps it', async () => {
    expect(agent('spooled').output()).toContain('found 1 buffered metrics interval(s)');
    const [series] = await waitFor(
      "the earlier run's batch in Prometheus",
      async () => {
        const found = await rawSamples(
          prom(),
          `system_uptime_seconds{host_name="${EARLIER_HOST}"}[60s]`,
          earlierAt + 30,
        );
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000, process: agent('spooled') },
    );
    expect(series?.values).toEqual([[earlierAt, '4242']]);
  });

  it('the agents ride out a 60 s Collector outage and send what they held when it is back', async () => {
    await sleep(3 * INTERVAL_MS);
    const ports = collector!.ports;
    tinyRss.push(rssBytes(agent('tiny').pid));
    await collector!.stop();
    stoppedAt = Date.now() / 1000;
    const outageEnds = Date.now() + OUTAGE_MS;
    while (Date.now() < outageEnds) {
      await sleep(Math.min(5_000, outageEnds - Date.now()));
      for (const started of agents.values()) started.assertRunning();
      tinyRss.push(rssBytes(agent('tiny').pid));
      if (spoolFilesDuringOutage.length === 0 && Date.now() > outageEnds - OUTAGE_MS / 2)
        spoolFilesDuringOutage = readdirSync(join(stateDir('spooled'), SPOOL_DIRECTORY_NAME));
    }
    collector = await startCollector(collectorBinary, remoteWriteUrl, ports, { history });
    restartedAt = Date.now() / 1000;
    console.log(`Collector stopped for ${(restartedAt - stoppedAt).toFixed(1)} s`);

    // Back: the buffers drain (the gRPC channel reconnects on its own backoff, then at most five
    // batches a second go out), seen in Prometheus as a fresh zero from each agent.
    for (const name of ['memory', 'spooled'] as const) {
      const held = `cybercorp_agent_export_buffer_intervals{host_name="${HOSTS[name]}"}`;
      // The newest sample says "nothing held" once everything older has been sent.
      await waitFor(
        `the ${name} agent's buffer to drain after the outage`,
        async () =>
          (
            await queryPrometheus(
              prom(),
              `(${held} == 0) and (timestamp(${held}) > ${restartedAt + 2})`,
            )
          ).length > 0 || undefined,
        { timeoutMs: 180_000, intervalMs: 1_000, process: agent(name) },
      );
      const drained = Date.now() / 1000;
      console.log(
        `${name} agent drained ${(drained - restartedAt).toFixed(1)} s after the restart`,
      );
    }
    // The Collector batches for up to 5 s before it writes.
    await sleep(6_000);
    const ownMetrics = await (await fetch(`${prom()}/metrics`)).text();
    console.log(
      ownMetrics
        .split('\n')
        .filter((line) => /^prometheus_tsdb_(head_)?out_of_order_samples/.test(line))
        .join('\n'),
    );
  }, 480_000);

  it.each(['memory', 'spooled'] as const)(
    "Prometheus has the %s agent's samples for the outage minute, no gap over two intervals",
    async (name) => {
      const from = stoppedAt - 5;
      const to = restartedAt + 5;
      const [series, ...others] = await rawSamples(
        prom(),
        `system_uptime_seconds{host_name="${HOSTS[name]}"}[${Math.ceil(to - from)}s]`,
        to,
      );
      expect(others).toEqual([]);
      const timestamps = (series?.values ?? []).map(([t]) => t).filter((t) => t >= from);
      const { gap, count } = largestGap(timestamps);
      console.log(
        `${name}: ${count} samples from ${from.toFixed(0)} to ${to.toFixed(0)}, largest gap ${gap.toFixed(2)} s`,
      );
      expect(timestamps[0]).toBeLessThan(stoppedAt);
      expect(timestamps.at(-1)).toBeGreaterThan(restartedAt);
      expect(count).toBeGreaterThanOrEqual(((to - from) * 1000) / INTERVAL_MS - 5);
      expect(gap).toBeLessThanOrEqual((2 * INTERVAL_MS) / 1000 + 0.5);
    },
  );

  it("the PostgreSQL history has the memory agent's samples for the outage minute too", async () => {
    const from = stoppedAt - 5;
    const to = restartedAt + 5;
    const db = new pg.Pool({ connectionString: api!.databaseUrl, max: 1 });
    db.on('error', () => undefined);
    try {
      // The Collector's history queue may still be sending what the agent replayed.
      const timestamps = await waitFor(
        'the outage minute in the history store',
        async () => {
          const { rows } = await db.query<{ t: number }>(
            `SELECT extract(epoch FROM m.time)::float8 AS t FROM system_metrics m
             JOIN metric_series s ON s.id = m.series_id
             WHERE s.host = $1 AND s.name = 'system.uptime' AND m.time BETWEEN to_timestamp($2) AND to_timestamp($3)
             ORDER BY m.time`,
            [HOSTS.memory, from, to],
          );
          const found = rows.map((r) => r.t);
          return found.length > 0 && found.at(-1)! > restartedAt ? found : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1_000 },
      );
      const { gap, count } = largestGap(timestamps);
      console.log(
        `history store: ${count} samples over the outage, largest gap ${gap.toFixed(2)} s`,
      );
      expect(timestamps[0]).toBeLessThan(stoppedAt);
      expect(gap).toBeLessThanOrEqual((2 * INTERVAL_MS) / 1000 + 0.5);
    } finally {
      await db.end();
    }
  });

  it('the spooled agent held the outage in 0600 files under its state directory, and none remain', () => {
    expect(spoolFilesDuringOutage.length).toBeGreaterThan(10);
    const spool = join(stateDir('spooled'), SPOOL_DIRECTORY_NAME);
    expect(statSync(spool).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(spool)) {
      expect(statSync(join(spool, file)).mode & 0o777, file).toBe(0o600);
    }
    expect(readdirSync(spool).filter((f) => spoolFilesDuringOutage.includes(f))).toEqual([]);
  });

  it('the agent with a tiny buffer stays within its bound, keeps the newest intervals and reports the drops', async () => {
    const host = `host_name="${HOSTS.tiny}"`;
    // Its own self-metrics, replayed with the rest: never above the bound.
    const limit = await latest(`cybercorp_agent_export_buffer_limit_bytes{${host}}`);
    expect(limit).toBe(TINY_BUFFER_BYTES);
    const window = `${Math.ceil(Date.now() / 1000 - stoppedAt + 10)}s`;
    const held = await latest(
      `max_over_time(cybercorp_agent_export_buffer_size_bytes{${host}}[${window}])`,
    );
    console.log(`tiny: largest buffer size seen ${held} bytes (bound ${TINY_BUFFER_BYTES})`);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(TINY_BUFFER_BYTES);

    // The counter, and the log lines: one as the drops began, one at recovery with the total.
    const dropped = await waitFor(
      'the dropped counter of the tiny agent in Prometheus',
      async () =>
        latest(`cybercorp_agent_export_buffer_dropped_total{${host},reason="buffer_full"}`),
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    const output = agent('tiny').output();
    expect(output).toContain('metrics export buffer full (CYBERCORP_BUFFER_MAX_BYTES)');
    const recovered =
      /recovered after \d+ failed export\(s\) over \d+ s; \d+ buffered interval\(s\) to send, oldest first; (\d+) interval\(s\) dropped as the buffer filled/.exec(
        output,
      );
    expect(recovered, output.slice(-4000)).not.toBeNull();
    const droppedAtRecovery = Number(recovered![1]);
    console.log(
      `tiny: ${droppedAtRecovery} intervals dropped by the recovery, counter now ${dropped}`,
    );
    const outageIntervals = ((restartedAt - stoppedAt) * 1000) / INTERVAL_MS;
    expect(droppedAtRecovery).toBeGreaterThan(outageIntervals / 2);
    // The first interval back may still push one out of the full buffer.
    expect(dropped).toBeGreaterThanOrEqual(droppedAtRecovery);
    expect(dropped).toBeLessThanOrEqual(droppedAtRecovery + 2);

    // Oldest dropped first: of the outage it kept only the end (the last intervals before the
    // gRPC channel was back), not its beginning.
    const [series] = await rawSamples(
      prom(),
      `system_uptime_seconds{${host}}[${Math.ceil(Date.now() / 1000 - stoppedAt)}s]`,
      Date.now() / 1000,
    );
    const after = (series?.values ?? []).map(([t]) => t).filter((t) => t > stoppedAt + 1);
    const kept = after.filter((t) => t < restartedAt);
    console.log(
      `tiny: kept ${kept.length} samples of the outage; the first sample after it began is ` +
        `${((after[0] ?? 0) - stoppedAt).toFixed(1)} s in`,
    );
    expect(after[0]).toBeGreaterThan(restartedAt - 15);
    expect(kept.length).toBeLessThan(10);

    // Memory: RSS moves by several MiB with the garbage collector's rhythm, so this only shows it
    // did not grow like a queue without a bound; the self-metric above is the exact check.
    const growth = Math.max(...tinyRss) - tinyRss[0]!;
    console.log(
      `tiny: RSS ${(tinyRss[0]! / 2 ** 20).toFixed(1)} MiB before, growth ${(growth / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(growth).toBeLessThan(32 * 2 ** 20);
  });
});
