/**
 * A real control API and real agents as separate processes, driven only through their public
 * faces: the binaries, their environment variables and the REST contract.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../control-api/src/test-support/rest-client.js';
import { REPO_ROOT } from './otelcol.js';
import { startProcess, waitFor, waitForHttp, type StartedProcess } from './processes.js';

export const API_BIN = join(REPO_ROOT, 'control-api/dist/bin.js');
export const AGENT_BIN = join(REPO_ROOT, 'collector-agent/dist/bin.js');
/** The installed `cybercorp-agent`: AGENT_BIN started with the agent's node flags. */
export const AGENT_LAUNCHER = join(REPO_ROOT, 'collector-agent/bin/cybercorp-agent.js');

export interface RunningControlApi {
  readonly url: string;
  readonly port: number;
  readonly process: StartedProcess;
  readonly client: ApiClient;
  stop(): Promise<void>;
}

/**
 * Starts `cybercorp-control-api` in `workDir` (so its embedded PostgreSQL lives in
 * `workDir/.data`) with the bootstrap admin. Restarting on the same workDir keeps the data.
 */
export async function startControlApi(options: {
  workDir: string;
  admin: { username: string; password: string };
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** How much of its output to keep (default: the last 64 KiB). */
  keepOutputBytes?: number;
  /** With TLS_CERT_FILE/TLS_KEY_FILE in `env`: the CA its certificate is verified against. */
  ca?: string | Buffer;
}): Promise<RunningControlApi> {
  // Port 0 lets the API bind a port nobody else can take in between; it prints the URL it got.
  const process = startProcess(globalThis.process.execPath, [API_BIN], {
    name: 'cybercorp-control-api',
    cwd: options.workDir,
    keepOutputBytes: options.keepOutputBytes,
    env: {
      ...globalThis.process.env,
      PORT: String(options.port ?? 0),
      HOST: '127.0.0.1',
      DATABASE_URL: '',
      REDIS_URL: '',
      CYBERCORP_ADMIN_USER: options.admin.username,
      CYBERCORP_ADMIN_PASSWORD: options.admin.password,
      // The suites send requests at machine speed, far over the default 100 a minute.
      RATE_LIMIT_PER_MINUTE: '100000',
      ...options.env,
    },
  });
  const url = await waitFor(
    'the control API to print the URL it listens on',
    async () => /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(process.output())?.[1],
    { process, timeoutMs: 90_000 },
  );
  const port = Number(new URL(url).port);
  const client = new ApiClient(url, undefined, { ca: options.ca });
  if (options.ca === undefined) {
    await waitForHttp(`${url}/readyz`, { process, timeoutMs: 30_000 });
  } else {
    await waitFor(
      `HTTP 200 from ${url}/readyz`,
      async () => ((await client.request('GET', '/readyz')).status === 200 ? true : undefined),
      { process, timeoutMs: 30_000 },
    );
  }
  return { url, port, process, client, stop: () => process.stop() };
}

export interface RunningAgent {
  readonly process: StartedProcess;
  readonly stateDir: string;
  readonly configFile: string;
  stop(): Promise<void>;
}

/** The safety policy every test agent runs with: on, with a protected name and user. */
export const TEST_AGENT_CONFIG = `control:
  enabled: true
protected:
  names: [sshd, systemd, init]
  users: []
`;

/** Starts `cybercorp-agent` connected to `controlUrl`; reusing `stateDir` keeps its instance uid. */
export function startAgent(options: {
  controlUrl: string;
  token: string;
  stateDir?: string;
  config?: string;
  env?: NodeJS.ProcessEnv;
  /** How much of its output to keep (default: the last 64 KiB). */
  keepOutputBytes?: number;
}): RunningAgent {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'cybercorp-agent-state-'));
  const configFile = join(stateDir, 'agent.yaml');
  writeFileSync(configFile, options.config ?? TEST_AGENT_CONFIG);
  const process = startProcess(AGENT_LAUNCHER, ['--config', configFile], {
    name: 'cybercorp-agent',
    keepOutputBytes: options.keepOutputBytes,
    env: {
      ...globalThis.process.env,
      CYBERCORP_CONTROL_URL: options.controlUrl,
      CYBERCORP_AGENT_TOKEN: options.token,
      CYBERCORP_AGENT_STATE_DIR: stateDir,
      // No Collector in these tests: telemetry export is not what they check.
      OTEL_METRICS_EXPORTER: 'none',
      ...options.env,
    },
  });
  return { process, stateDir, configFile, stop: () => process.stop() };
}

/** Waits until the API lists an online agent that satisfies `match`, and returns it. */
export async function waitForAgent(
  client: ApiClient,
  token: string,
  match: (agent: any) => boolean,
  options: { process?: StartedProcess; timeoutMs?: number } = {},
): Promise<any> {
  return waitFor(
    'the agent to be listed online',
    async () => {
      const response = await client.as(token).request('GET', '/api/v1/agents');
      return (response.body.items as any[] | undefined)?.find((a) => a.online && match(a));
    },
    { timeoutMs: options.timeoutMs ?? 30_000, process: options.process },
  );
}

/** The one-letter state of a process from /proc/<pid>/stat (the field after the comm). */
export function procState(pid: number, read: (path: string) => string): string {
  const stat = read(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}
