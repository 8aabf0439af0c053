import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessTable } from '../control/process-table.js';
import { startTelemetry, type Telemetry } from './telemetry.js';

/*
 * The names dashboards and alert rules use, checked end to end: this package's telemetry →
 * the project's Collector (otel-config/collector.yaml) → Prometheus remote write.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function until<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMillis: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

type Series = Record<string, string>;

describe('Prometheus names after the Collector', () => {
  const children: ChildProcess[] = [];
  const instanceId = randomUUID();
  const savedEndpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  let dir: string;
  let promUrl: string;
  let telemetry: Telemetry | undefined;

  function start(
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
  ): ChildProcess {
    const child = spawn(command, args, { env, stdio: 'ignore' });
    children.push(child);
    return child;
  }

  beforeAll(async () => {
    if (!existsSync('/usr/bin/prometheus')) {
      throw new Error(
        'prometheus is not installed (Debian package "prometheus", scripts/setup-deps)',
      );
    }
    const built = await run(join(ROOT, 'scripts/build-otelcol'), [], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: Error) => {
      throw new Error(
        `the OpenTelemetry Collector could not be built by scripts/build-otelcol: ${error.message}`,
      );
    });
    const otelcol = built.stdout.trim().split('\n').at(-1) ?? '';
    if (!existsSync(otelcol))
      throw new Error(`scripts/build-otelcol printed no Collector binary: "${otelcol}"`);

    dir = mkdtempSync(join(tmpdir(), 'prometheus-names-'));
    const [promPort, grpcPort, httpPort, selfPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
    start('/usr/bin/prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--web.enable-remote-write-receiver',
    ]);
    await until(
      async () => ((await globalThis.fetch(`${promUrl}/-/ready`)).ok ? true : undefined),
      'Prometheus',
      60_000,
    );
    start(otelcol, ['--config', join(ROOT, 'otel-config/collector.yaml')], {
      ...process.env,
      OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpcPort}`,
      OTELCOL_OTLP_HTTP_ENDPOINT: `127.0.0.1:${httpPort}`,
      PROMETHEUS_REMOTE_WRITE_URL: `${promUrl}/api/v1/write`,
      OTELCOL_METRICS_HOST: '127.0.0.1',
      OTELCOL_METRICS_PORT: String(selfPort),
    });
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${grpcPort}`;
    telemetry = startTelemetry({
      resource: resourceFromAttributes({
        'service.name': 'cybercorp-agent',
        'host.name': 'names-test',
      }),
      serviceInstanceId: instanceId,
      processTable: createProcessTable(),
      topN: 3,
      exportIntervalMillis: 1000,
      logger: { info: () => {}, warn: () => {} },
    });
  }, 20 * 60_000);

  afterAll(async () => {
    await telemetry?.shutdown();
    if (savedEndpoint === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = savedEndpoint;
    // Only the servers this test started, by their own handles.
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await sleep(500);
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lands every metric in Prometheus under its suffixed name with semconv labels', async () => {
    const expected = [
      'system_cpu_time_seconds_total',
      'system_cpu_utilization_ratio',
      'system_cpu_load_average_1m',
      'system_cpu_load_average_5m',
      'system_cpu_load_average_15m',
      'system_memory_usage_bytes',
      'system_memory_utilization_ratio',
      'system_memory_limit_bytes',
      'system_network_io_bytes_total',
      'system_network_errors_total',
      'system_network_dropped_total',
      'system_filesystem_usage_bytes',
      'system_filesystem_utilization_ratio',
      'system_disk_io_bytes_total',
      'system_disk_operations_total',
      'system_disk_io_time_seconds_total',
      'system_process_count',
      'system_uptime_seconds',
      'process_cpu_utilization_ratio',
      'process_cpu_time_seconds_total',
      'process_memory_usage_bytes',
    ];
    const selector = `{service_instance_id="${instanceId}"}`;
    const series = await until(
      async () => {
        const response = await globalThis.fetch(
          `${promUrl}/api/v1/series?match[]=${encodeURIComponent(selector)}`,
        );
        const body = (await response.json()) as { data: Series[] };
        const names = new Set(body.data.map((s) => s.__name__));
        return expected.every((name) => names.has(name)) ? body.data : undefined;
      },
      'all metric names in Prometheus',
      90_000,
    );
    const labelsOf = (name: string) => series.filter((s) => s.__name__ === name);

    expect(labelsOf('system_filesystem_usage_bytes')).toContainEqual(
      expect.objectContaining({
        system_filesystem_mountpoint: '/',
        system_filesystem_state: 'used',
        system_device: expect.any(String),
        system_filesystem_type: expect.any(String),
        host_name: 'names-test',
      }),
    );
    expect(labelsOf('system_cpu_utilization_ratio')).toContainEqual(
      expect.objectContaining({ cpu_mode: 'idle', cpu_logical_number: '0' }),
    );
    expect(labelsOf('system_memory_usage_bytes')).toContainEqual(
      expect.objectContaining({ system_memory_state: 'used' }),
    );
    expect(labelsOf('system_network_io_bytes_total')).toContainEqual(
      expect.objectContaining({ network_interface_name: 'lo', network_io_direction: 'transmit' }),
    );
    expect(labelsOf('system_process_count')).toContainEqual(
      expect.objectContaining({ process_status: 'sleeping' }),
    );
    const processLabels = labelsOf('process_cpu_utilization_ratio')[0];
    expect(processLabels).toMatchObject({
      process_pid: expect.stringMatching(/^\d+$/),
      process_executable_name: expect.any(String),
      process_owner: expect.any(String),
    });
  });
});
