/**
 * Real Prometheus and Alertmanager (Debian packages) for tests: each on a free loopback port
 * with its own data directory, plus small typed readers of their HTTP APIs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  requireBinary,
  startProcess,
  stopIfNotReady,
  waitForHttp,
  type StartedProcess,
} from './processes.js';

export interface RunningServer {
  readonly process: StartedProcess;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

const PROMETHEUS_HINT = 'Debian package prometheus; run scripts/setup-deps';
const ALERTMANAGER_HINT = 'Debian package prometheus-alertmanager; run scripts/setup-deps';

/**
 * Starts Prometheus with `configFile`, its TSDB under `dataDir`, accepting remote write, on
 * `port` (a free one when omitted; pass one to tell a remote-write client the URL beforehand).
 */
export async function startPrometheus(
  configFile: string,
  dataDir: string,
  port?: number,
): Promise<RunningServer> {
  const binary = requireBinary('prometheus', PROMETHEUS_HINT);
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const storage = join(dataDir, 'prometheus');
  mkdirSync(storage, { recursive: true });
  const process = startProcess(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${storage}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ],
    { name: 'prometheus' },
  );
  await stopIfNotReady(process, () =>
    waitForHttp(`${url}/-/ready`, { process, timeoutMs: 60_000 }),
  );
  return { process, port, url, stop: () => process.stop() };
}

/** Starts Alertmanager with `configFile`, clustering off (no gossip port), state under `dataDir`. */
export async function startAlertmanager(
  configFile: string,
  dataDir: string,
): Promise<RunningServer> {
  const binary = requireBinary('prometheus-alertmanager', ALERTMANAGER_HINT);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const storage = join(dataDir, 'alertmanager');
  mkdirSync(storage, { recursive: true });
  const process = startProcess(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.path=${storage}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { name: 'alertmanager' },
  );
  await stopIfNotReady(process, () =>
    waitForHttp(`${url}/-/ready`, { process, timeoutMs: 60_000 }),
  );
  return { process, port, url, stop: () => process.stop() };
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Instant query; throws on an API error instead of returning an empty result. */
export async function queryPrometheus(baseUrl: string, promql: string): Promise<PromSample[]> {
  const response = await fetch(`${baseUrl}/api/v1/query?query=${encodeURIComponent(promql)}`, {
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: PromSample[] };
  };
  if (body.status !== 'success' || !body.data) {
    throw new Error(`Prometheus query '${promql}' failed: ${response.status} ${body.error ?? ''}`);
  }
  if (body.data.resultType !== 'vector') {
    throw new Error(
      `Prometheus query '${promql}' returned a ${body.data.resultType}, not a vector`,
    );
  }
  return body.data.result;
}

export interface PromSeries {
  metric: Record<string, string>;
  /** [unix seconds, value] pairs, oldest first. */
  values: Array<[number, string]>;
}

/**
 * The raw samples a range selector (`metric{...}[60s]`) holds at `atSeconds`: each sample as
 * stored, without the step and lookback a range query would fill gaps with.
 */
export async function rawSamples(
  baseUrl: string,
  rangeSelector: string,
  atSeconds: number,
): Promise<PromSeries[]> {
  const response = await fetch(
    `${baseUrl}/api/v1/query?query=${encodeURIComponent(rangeSelector)}&time=${atSeconds}`,
    { signal: AbortSignal.timeout(5_000) },
  );
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: PromSeries[] };
  };
  if (body.status !== 'success' || body.data?.resultType !== 'matrix') {
    throw new Error(
      `Prometheus query '${rangeSelector}' gave no matrix: ${response.status} ${body.error ?? ''}`,
    );
  }
  return body.data.result;
}

export interface RuleState {
  group: string;
  name: string;
  type: 'alerting' | 'recording';
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  /** RFC 3339 time of the last evaluation (0001-01-01T00:00:00Z before the first). */
  lastEvaluation?: string;
  state?: string;
}

/** Every rule Prometheus has loaded, with its evaluation health. */
export async function prometheusRules(baseUrl: string): Promise<RuleState[]> {
  const response = await fetch(`${baseUrl}/api/v1/rules`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as {
    status: string;
    data?: { groups: Array<{ name: string; rules: Array<Omit<RuleState, 'group'>> }> };
  };
  if (body.status !== 'success' || !body.data)
    throw new Error(`Prometheus /api/v1/rules failed: ${response.status}`);
  return body.data.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
}

export interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
}

/** Alerts Prometheus currently holds (pending or firing). */
export async function prometheusAlerts(baseUrl: string): Promise<PromAlert[]> {
  const response = await fetch(`${baseUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; data?: { alerts: PromAlert[] } };
  if (body.status !== 'success' || !body.data)
    throw new Error(`Prometheus /api/v1/alerts failed: ${response.status}`);
  return body.data.alerts;
}
