/**
 * The history path end to end with real binaries: the real agent --OTLP gRPC--> the built
 * Collector with the shipped collector.yaml and its history overlay --OTLP/HTTP--> the real
 * control API's ingest --> PostgreSQL, read back through GET /agents/{id}/metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../control-api/src/test-support/rest-client.js';
import {
  startAgent,
  startControlApi,
  TEST_AGENT_CONFIG,
  waitForAgent,
  type RunningAgent,
  type RunningControlApi,
} from './support/control-stack.js';
import {
  buildCollector,
  COLLECTOR_BUILD_TIMEOUT_MS,
  startCollector,
  type RunningCollector,
} from './support/otelcol.js';
import { exitOf, freePort, spawnSleeper, waitFor } from './support/processes.js';

const ADMIN = { username: 'admin', password: 'history-e2e-admin-password' };
/** What the history must hold for the host: CPU, memory, filesystem and network. */
const HOST_METRICS = [
  'system.cpu.utilization',
  'system.memory.usage',
  'system.filesystem.usage',
  'system.network.io',
];

interface History {
  stepSeconds: number;
  series: { attributes: Record<string, unknown>; points: { time: string; avg: number }[] }[];
}

describe('metrics history: agent → Collector → ingest → PostgreSQL', () => {
  let workDir: string;
  let api: RunningControlApi;
  let admin: ApiClient;
  let collector: RunningCollector;
  let agent: RunningAgent;
  let remoteWriteSink: Server;

  beforeAll(async () => {
    const binary = await buildCollector();
    workDir = mkdtempSync(join(tmpdir(), 'cybercorp-history-'));
    // Snapshots every 2 s, so the test sees a process come and go within seconds.
    api = await startControlApi({ workDir, admin: ADMIN, env: { INVENTORY_INTERVAL: '2s' } });
    admin = api.client;
    await admin.login(ADMIN.username, ADMIN.password);
    const ingest = await admin.request<{ token: string }>('POST', '/api/v1/service-tokens', {
      name: 'collector-history',
      role: 'ingest',
    });
    expect(ingest.status).toBe(201);
    const agentToken = await admin.request<{ token: string }>('POST', '/api/v1/agent-tokens', {
      name: 'history-e2e',
    });

    // Prometheus is not what this test reads: its remote write lands in a sink that accepts it.
    const sinkPort = await freePort();
    remoteWriteSink = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((ok) => remoteWriteSink.listen(sinkPort, '127.0.0.1', ok));

    collector = await startCollector(
      binary,
      `http://127.0.0.1:${sinkPort}/api/v1/write`,
      undefined,
      {
        history: { endpoint: api.url, token: ingest.body.token },
      },
    );
    agent = startAgent({
      controlUrl: `ws://127.0.0.1:${api.port}/v1/opamp`,
      token: agentToken.body.token,
      // Every process is exported (not only the top 10), so the one this test spawns is too.
      config: `${TEST_AGENT_CONFIG}metrics:\n  topN: 1000\n`,
      env: {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://${collector.grpcEndpoint}`,
        OTEL_METRIC_EXPORT_INTERVAL: '2000',
      },
    });
  }, COLLECTOR_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await agent?.stop();
    await collector?.stop();
    await api?.stop();
    await new Promise<void>((ok) => (remoteWriteSink ? remoteWriteSink.close(() => ok()) : ok()));
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('holds CPU, memory, filesystem and network of the host within 60 s, downsampled', async () => {
    const started = Date.now();
    const online = await waitForAgent(admin, admin.accessToken!, () => true, {
      process: agent.process,
    });
    const agentId = online.id as string;
    const histories = await waitFor(
      'the history to hold CPU, memory, filesystem and network of the agent',
      async () => {
        const answers = await Promise.all(
          HOST_METRICS.map(
            async (name) =>
              (
                await admin.request<History>(
                  'GET',
                  `/api/v1/agents/${agentId}/metrics?name=${name}&step=1s`,
                )
              ).body,
          ),
        );
        return answers.every((h) => h.series?.some((s) => s.points.length > 0))
          ? answers
          : undefined;
      },
      { timeoutMs: 60_000, process: collector.process },
    );
    console.log(
      `history: host metrics in PostgreSQL ${(Date.now() - started) / 1000} s after start`,
    );

    const [cpu, memory, filesystem, network] = histories;
    expect(cpu!.series.some((s) => 'cpu.logical_number' in s.attributes)).toBe(true);
    for (const s of cpu!.series) {
      for (const p of s.points) {
        expect(p.avg).toBeGreaterThanOrEqual(0);
        expect(p.avg).toBeLessThanOrEqual(1);
      }
    }
    expect(memory!.series.map((s) => s.attributes['system.memory.state'])).toContain('used');
    expect(filesystem!.series.some((s) => 'system.filesystem.mountpoint' in s.attributes)).toBe(
      true,
    );
    expect(network!.series.map((s) => s.attributes['network.io.direction'])).toContain('receive');

    // Downsampled: one-hour buckets hold every export of the last minute in one point a series.
    const coarse = await admin.request<History>(
      'GET',
      `/api/v1/agents/${agentId}/metrics?name=system.cpu.utilization&step=1h`,
    );
    expect(coarse.body.stepSeconds).toBe(3600);
    for (const s of coarse.body.series) expect(s.points.length).toBeLessThanOrEqual(2);
  });

  it('answers a process the test spawned at its time, also after it has exited', async () => {
    const online = await waitForAgent(admin, admin.accessToken!, () => true, {
      process: agent.process,
    });
    const agentId = online.id as string;
    const processesAt = async (at: Date) =>
      (
        await admin.request<{ snapshotAt: string | null; items: { pid: number; name: string }[] }>(
          'GET',
          `/api/v1/agents/${agentId}/processes?at=${at.toISOString()}`,
        )
      ).body;
    const sleeper = spawnSleeper();
    try {
      const seen = await waitFor(
        `the inventory to hold the spawned sleep (pid ${sleeper.pid})`,
        async () => {
          const answer = await processesAt(new Date());
          return answer.items.some((p) => p.pid === sleeper.pid) ? answer : undefined;
        },
        { timeoutMs: 60_000, process: collector.process },
      );
      expect(seen.items.find((p) => p.pid === sleeper.pid)?.name).toBe('sleep');
      const seenAt = new Date(seen.snapshotAt!);

      sleeper.kill('SIGKILL');
      await exitOf(sleeper);
      await waitFor(
        'a snapshot taken after the sleep exited',
        async () => {
          const answer = await processesAt(new Date());
          return answer.items.length > 0 && !answer.items.some((p) => p.pid === sleeper.pid)
            ? answer
            : undefined;
        },
        { timeoutMs: 60_000, process: collector.process },
      );
      const then = await processesAt(seenAt);
      expect(then.snapshotAt).toBe(seen.snapshotAt);
      expect(then.items.find((p) => p.pid === sleeper.pid)?.name).toBe('sleep');
    } finally {
      if (sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
    }
  });
});
