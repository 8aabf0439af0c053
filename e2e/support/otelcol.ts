/**
 * The CyberCorp OpenTelemetry Collector binary for tests: built by scripts/build-otelcol from
 * otel-config/builder-config.yaml (cached outside git, so only the first run builds).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  runCommand,
  startProcess,
  stopIfNotReady,
  waitForHttp,
  waitForPort,
  type StartedProcess,
} from './processes.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const COLLECTOR_CONFIG = resolve(REPO_ROOT, 'otel-config/collector.yaml');
/** Overlay that makes the OTLP receivers serve TLS (otel-config/collector-tls.yaml). */
export const COLLECTOR_TLS_CONFIG = resolve(REPO_ROOT, 'otel-config/collector-tls.yaml');
/** The overlay that adds the history pipeline (OTLP/HTTP to the control plane's ingest). */
export const COLLECTOR_HISTORY_CONFIG = resolve(REPO_ROOT, 'otel-config/collector-history.yaml');

/** A cold build downloads the Go modules and compiles for several minutes on two cores. */
export const COLLECTOR_BUILD_TIMEOUT_MS = 20 * 60_000;

/** Builds (or finds in the cache) the Collector and returns the binary's absolute path. */
export async function buildCollector(): Promise<string> {
  const script = resolve(REPO_ROOT, 'scripts/build-otelcol');
  const result = await runCommand(script, [], { timeoutMs: COLLECTOR_BUILD_TIMEOUT_MS });
  if (result.code !== 0) {
    throw new Error(
      `scripts/build-otelcol failed (exit ${result.code}):\n${result.stderr.slice(-4000)}`,
    );
  }
  const lines = result.stdout.trim().split('\n');
  const binary = lines[lines.length - 1]?.trim() ?? '';
  if (!binary || !existsSync(binary)) {
    throw new Error(
      `scripts/build-otelcol printed no existing binary path (last line: '${binary}')`,
    );
  }
  return binary;
}

export interface RunningCollector {
  readonly process: StartedProcess;
  /** host:port of the OTLP gRPC receiver. */
  readonly grpcEndpoint: string;
  /** Base URL of the OTLP HTTP receiver. */
  readonly httpUrl: string;
  /** The Collector's own Prometheus metrics (service.telemetry). */
  readonly metricsUrl: string;
  stop(): Promise<void>;
}

export interface CollectorPorts {
  grpc: number;
  http: number;
  metrics: number;
}

/** TLS for the OTLP receivers; with `clientCaFile`, clients must present a certificate. */
export interface CollectorTls {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
}

/** The history overlay's target: the control plane's OTLP ingest and an ingest token. */
export interface CollectorHistory {
  /** Base URL; the exporter appends /v1/metrics. */
  endpoint: string;
  token: string;
  caFile?: string;
}

/**
 * Starts the built Collector with the shipped otel-config/collector.yaml, writing to
 * `remoteWriteUrl`, every listener on a free loopback port unless `ports` are given (to start
 * it again where its clients expect it); with `tls` the shipped TLS overlay on top, with
 * `history` the history overlay (a second pipeline to the control plane's ingest).
 */
export async function startCollector(
  binary: string,
  remoteWriteUrl: string,
  ports?: CollectorPorts,
  options: { tls?: CollectorTls; history?: CollectorHistory } = {},
): Promise<RunningCollector & { ports: CollectorPorts }> {
  const grpcPort = ports?.grpc ?? (await freePort());
  const httpPort = ports?.http ?? (await freePort());
  const metricsPort = ports?.metrics ?? (await freePort());
  const { tls, history } = options;
  const configs = [
    COLLECTOR_CONFIG,
    ...(tls ? [COLLECTOR_TLS_CONFIG] : []),
    ...(history ? [COLLECTOR_HISTORY_CONFIG] : []),
  ];
  const tlsEnv = tls && {
    OTELCOL_TLS_CERT_FILE: tls.certFile,
    OTELCOL_TLS_KEY_FILE: tls.keyFile,
    OTELCOL_TLS_CLIENT_CA_FILE: tls.clientCaFile ?? '',
  };
  const historyEnv = history && {
    CYBERCORP_INGEST_ENDPOINT: history.endpoint,
    CYBERCORP_INGEST_TOKEN: history.token,
    CYBERCORP_INGEST_CA_FILE: history.caFile ?? '',
  };
  const process = startProcess(
    binary,
    configs.map((config) => `--config=${config}`),
    {
      name: 'otelcol',
      env: {
        PATH: globalThis.process.env.PATH,
        OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpcPort}`,
        OTELCOL_OTLP_HTTP_ENDPOINT: `127.0.0.1:${httpPort}`,
        PROMETHEUS_REMOTE_WRITE_URL: remoteWriteUrl,
        OTELCOL_METRICS_HOST: '127.0.0.1',
        OTELCOL_METRICS_PORT: String(metricsPort),
        ...tlsEnv,
        ...historyEnv,
      },
    },
  );
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  await stopIfNotReady(process, async () => {
    await waitForHttp(metricsUrl, { process, timeoutMs: 60_000 });
    await waitForPort(grpcPort, '127.0.0.1', { process, timeoutMs: 30_000 });
  });
  return {
    process,
    grpcEndpoint: `127.0.0.1:${grpcPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    metricsUrl,
    ports: { grpc: grpcPort, http: httpPort, metrics: metricsPort },
    stop: () => process.stop(),
  };
}
