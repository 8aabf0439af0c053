/**
 * The real gateway for tests: Debian's nginx running the project's own `gateway/nginx.conf` and
 * `gateway/proxy.conf` (symlinked, never copied or edited) with a test deployment beside them:
 * a free loopback port, the given API instances as upstream servers, the given certificates,
 * and pid, log and temp paths in a temporary directory (nothing needs root).
 */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './otelcol.js';
import {
  freePort,
  requireBinary,
  startProcess,
  stopIfNotReady,
  waitForPort,
  type StartedProcess,
} from './processes.js';

export const GATEWAY_DIR = join(REPO_ROOT, 'gateway');
/** The compose deployment, whose upstream parameters (passive health checks) tests reuse. */
export const COMPOSE_DEPLOYMENT_DIR = join(GATEWAY_DIR, 'compose');

const NGINX_HINT = 'Debian package nginx; run scripts/setup-deps';

export interface GatewayCerts {
  /** The gateway's server certificate and key (PEM). */
  certFile: string;
  keyFile: string;
  /** The CA the gateway verifies the API instances' certificates against. */
  caFile: string;
}

export interface StartGatewayOptions {
  /**
   * The API instances, as their base URLs (`ControlApi.url`, `https://127.0.0.1:PORT`) or
   * objects carrying one. The gateway speaks TLS to them, so each must serve HTTPS.
   */
  upstreams: readonly (string | { url: string })[];
  /** E.g. from `makeDevCerts()`: the server certificate must name `control-api` for upstreams. */
  certs: GatewayCerts;
  /** Loopback address to listen on (127.0.0.1). */
  host?: string;
  /**
   * Loopback address the gateway connects to the instances from (`proxy_bind`), so that an
   * instance can trust exactly that address in TRUSTED_PROXIES. Unset: the kernel's choice
   * (127.0.0.1).
   */
  bindAddress?: string;
}

/** One line of the gateway's JSON access log (`log_format cybercorp_json`). */
export interface AccessLogEntry {
  time: string;
  client: string;
  method: string;
  path: string;
  protocol: string;
  tls: string;
  status: number;
  bytes: number;
  duration: number;
  /** `host:port` of the instance(s) tried, comma-separated when nginx moved on. */
  upstream: string;
  upstream_status: string;
  upstream_duration: string;
  request_id: string;
  user_agent: string;
}

export interface Gateway {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** `wss://127.0.0.1:PORT/v1/opamp` */
  readonly opampUrl: string;
  readonly port: number;
  readonly host: string;
  readonly process: StartedProcess;
  /** The `host:port` of each upstream server, in the order given. */
  readonly upstreams: readonly string[];
  readonly accessLogPath: string;
  readonly errorLogPath: string;
  /** Every line of the access log so far, parsed (throws on a line that is not JSON). */
  accessLog(): Promise<AccessLogEntry[]>;
  /** The raw access log text. */
  accessLogText(): Promise<string>;
  /** Stops nginx by its own pid and removes the temporary directory. */
  stop(): Promise<void>;
}

/**
 * The parameters after the address on the compose deployment's first `server` line
 * (`max_fails=… fail_timeout=…`): the passive health checks tests run with are the shipped ones.
 */
export function shippedUpstreamParameters(): string {
  const text = readFileSync(join(COMPOSE_DEPLOYMENT_DIR, 'upstream-servers.conf'), 'utf8');
  const line = /^\s*server\s+\S+\s+([^;]*);/m.exec(text);
  if (!line?.[1]) throw new Error('gateway/compose/upstream-servers.conf has no server line');
  return line[1].trim();
}

function upstreamAddress(upstream: string | { url: string }): string {
  const raw = typeof upstream === 'string' ? upstream : upstream.url;
  const url = new URL(raw);
  if (url.protocol !== 'https:') {
    throw new Error(
      `gateway upstream ${raw}: the gateway re-encrypts to the API, start it with TLS_CERT_FILE/TLS_KEY_FILE`,
    );
  }
  return url.host;
}

/** Starts nginx with the project's gateway configuration; resolves once it accepts connections. */
export async function startGateway(options: StartGatewayOptions): Promise<Gateway> {
  const nginx = requireBinary('nginx', NGINX_HINT);
  if (options.upstreams.length === 0) throw new Error('startGateway: no upstreams given');
  const upstreams = options.upstreams.map(upstreamAddress);
  const host = options.host ?? '127.0.0.1';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cybercorp-gateway-'));
  const accessLogPath = join(dir, 'logs', 'access.log');
  const errorLogPath = join(dir, 'logs', 'error.log');
  try {
    writeDeployment(dir, {
      ...options,
      host,
      port,
      upstreams,
      accessLogPath,
      errorLogPath,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const process = startProcess(
    nginx,
    ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', errorLogPath, '-g', 'daemon off;'],
    { name: 'nginx (gateway)' },
  );
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    await stopIfNotReady(process, () =>
      waitForPort(port, host, { process, timeoutMs: 15_000, intervalMs: 50 }),
    );
  } catch (error) {
    const log = await readFile(errorLogPath, 'utf8').catch(() => '');
    removeDir();
    throw new Error(`${(error as Error).message}\n--- nginx error.log ---\n${log}`);
  }

  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const accessLogText = () => readFile(accessLogPath, 'utf8').catch(() => '');
  return {
    url: `https://${hostForUrl}:${port}`,
    opampUrl: `wss://${hostForUrl}:${port}/v1/opamp`,
    port,
    host,
    process,
    upstreams,
    accessLogPath,
    errorLogPath,
    accessLogText,
    accessLog: async () =>
      (await accessLogText())
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as AccessLogEntry),
    stop: async () => {
      await process.stop();
      removeDir();
    },
  };
}

interface Deployment extends StartGatewayOptions {
  host: string;
  port: number;
  upstreams: string[];
  accessLogPath: string;
  errorLogPath: string;
}

/**
 * The test deployment: the shipped files as symlinks (nginx resolves `include` against the
 * directory of the `-c` path it was given, so they find `deployment/` here), and the four
 * per-deployment files nginx.conf includes.
 */
function writeDeployment(dir: string, d: Deployment): void {
  for (const file of readdirSync(GATEWAY_DIR).filter((name) => name.endsWith('.conf'))) {
    symlinkSync(join(GATEWAY_DIR, file), join(dir, file));
  }
  mkdirSync(join(dir, 'deployment'));
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'temp'));
  const listenHost = d.host.includes(':') ? `[${d.host}]` : d.host;
  const parameters = shippedUpstreamParameters();
  const files: Record<string, string[]> = {
    'main.conf': [`pid ${join(dir, 'nginx.pid')};`, `error_log ${d.errorLogPath} warn;`],
    'http.conf': [
      `access_log ${d.accessLogPath} cybercorp_json;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `${kind}_temp_path ${join(dir, 'temp', kind)};`,
      ),
      ...(d.bindAddress ? [`proxy_bind ${d.bindAddress};`] : []),
    ],
    'upstream-servers.conf': d.upstreams.map((address) => `server ${address} ${parameters};`),
    'server.conf': [
      `listen ${listenHost}:${d.port} ssl http2;`,
      `ssl_certificate ${d.certs.certFile};`,
      `ssl_certificate_key ${d.certs.keyFile};`,
      `proxy_ssl_trusted_certificate ${d.certs.caFile};`,
    ],
  };
  for (const [name, lines] of Object.entries(files)) {
    writeFileSync(join(dir, 'deployment', name), `${lines.join('\n')}\n`);
  }
}
