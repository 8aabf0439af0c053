/**
 * Issue 3 with the real agent process: `cybercorp-agent` (telemetry only) exports over OTLP gRPC
 * to the Collector built from otel-config/, which remote-writes into a real Prometheus. Host
 * metrics arrive under their semconv-derived names with `host_name`, a busy process the test
 * spawns shows up by pid within the series budget, and a Collector outage is survived.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildCollector, COLLECTOR_BUILD_TIMEOUT_MS, startCollector } from './support/otelcol.js';
import { AGENT_BIN } from './support/control-stack.js';
import {
  freePort,
  requireBinary,
  rssBytes,
  startProcess,
  waitFor,
  type StartedProcess,
} from './support/processes.js';
import { queryPrometheus, startPrometheus, type RunningServer } from './support/prometheus.js';

const TOP_N = 3;
const HOST_NAME = `e2e-agent-${process.pid}`;

describe('real agent → Collector → Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-telemetry-'));
  let collectorBinary: string;
  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  let prometheus: RunningServer | undefined;
  let agent: StartedProcess | undefined;
  let busy: ChildProcess | undefined;
  let remoteWriteUrl: string;

  beforeAll(async () => {
    requireBinary('prometheus', 'Debian package prometheus; run scripts/setup-deps');
    collectorBinary = await buildCollector();
    const prometheusPort = await freePort();
    remoteWriteUrl = `http://127.0.0.1:${prometheusPort}/api/v1/write`;
    collector = await startCollector(collectorBinary, remoteWriteUrl);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({ global: { scrape_interval: '5s', evaluation_interval: '5s' } }),
    );
    prometheus = await startPrometheus(join(dir, 'prometheus.yml'), dir, prometheusPort);

    const config = join(dir, 'agent.yaml');
    writeFileSync(config, stringify({ control: { enabled: true }, metrics: { topN: TOP_N } }));
    agent = startProcess(process.execPath, [AGENT_BIN, '--config', config], {
      name: 'cybercorp-agent',
      env: {
        ...process.env,
        CYBERCORP_CONTROL_URL: '',
        CYBERCORP_AGENT_STATE_DIR: join(dir, 'agent-state'),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://${collector.grpcEndpoint}`,
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        OTEL_RESOURCE_ATTRIBUTES: `host.name=${HOST_NAME},deployment.environment=e2e`,
      },
    });
  }, COLLECTOR_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (busy && busy.exitCode === null && busy.signalCode === null) busy.kill('SIGKILL');
    await agent?.stop();
    await collector?.stop();
    await prometheus?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const samples = (promql: string, what = promql, timeoutMs = 60_000) =>
    waitFor(
      what,
      async () => {
        const result = await queryPrometheus(prometheus!.url, promql);
        return result.length > 0 ? result : undefined;
      },
      { timeoutMs, intervalMs: 500, process: agent },
    );

  it('delivers the host metrics under semconv-derived names, each with host_name', async () => {
    for (const name of [
      'system_cpu_utilization_ratio',
      'system_memory_usage_bytes',
      'system_filesystem_usage_bytes',
      'system_network_io_bytes_total',
      'system_cpu_load_average_1m',
    ]) {
      const found = await samples(`${name}{host_name="${HOST_NAME}"}`);
      expect(found[0]?.metric.host_name, name).toBe(HOST_NAME);
      expect(found[0]?.metric.service_name, name).toBe('cybercorp-agent');
    }
    // OTEL_RESOURCE_ATTRIBUTES is honoured, and the real host is not mistaken for the override.
    const memory = await samples(`system_memory_usage_bytes{host_name="${HOST_NAME}"}`);
    expect(memory[0]?.metric.deployment_environment).toBe('e2e');
    expect(HOST_NAME).not.toBe(hostname());
  });

  it('shows a busy process the test spawned by its pid, within the process series budget', async () => {
    busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    const pid = busy.pid as number;
    const found = await samples(
      `process_cpu_utilization_ratio{host_name="${HOST_NAME}",process_pid="${pid}"}`,
      `the busy process ${pid} in the process metrics`,
    );
    expect(found[0]?.metric.process_executable_name).toBe('node');
    expect(found[0]?.metric.process_owner).toEqual(expect.any(String));

    // Each export holds at most top-N by CPU plus top-N by memory processes: count the series
    // of the latest export (those whose newest sample carries the newest timestamp).
    const selector = `process_memory_usage_bytes{host_name="${HOST_NAME}"}`;
    const perExport = await queryPrometheus(
      prometheus!.url,
      `count(timestamp(${selector}) == scalar(max(timestamp(${selector}))))`,
    );
    const series = Number(perExport[0]?.value[1] ?? 0);
    expect(series).toBeGreaterThan(0);
    expect(series).toBeLessThanOrEqual(2 * TOP_N);
    busy.kill('SIGKILL');
  });

  it('survives a Collector outage with bounded memory and delivers fresh samples after it', async () => {
    const rssBefore = rssBytes(agent!.pid);
    const ports = collector!.ports;
    await collector!.stop();
    const stoppedAt = Date.now() / 1000;

    // Several export intervals without a Collector: the agent keeps running.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    agent!.assertRunning();
    // The offline buffer holds these few intervals (a few hundred KB, bounded by
    // CYBERCORP_BUFFER_MAX_BYTES), so memory stays where it was give or take the garbage
    // collector's rhythm; e2e/agent-offline-buffer.test.ts covers the buffer itself.
    expect(rssBytes(agent!.pid)).toBeLessThan(rssBefore + 32 * 1024 * 1024);
    expect(agent!.output()).toMatch(/unreachable|outage|unavailable|failed/i);

    collector = await startCollector(collectorBinary, remoteWriteUrl, ports);
    const fresh = await samples(
      `timestamp(system_uptime_seconds{host_name="${HOST_NAME}"}) > ${stoppedAt + 8}`,
      'a sample exported after the Collector came back',
    );
    expect(fresh.length).toBe(1);
    agent!.assertRunning();
  });
});
