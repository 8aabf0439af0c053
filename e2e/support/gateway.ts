/**
 * The real gateway for tests: Debian's nginx running the project's own `gateway/nginx.conf` and
 * `gateway/proxy.conf` (symlinked, never copied or edited) with a test deployment beside them
 * (gateway/deployment.mjs): a free loopback port, the given API instances as upstream servers,
 * the given certificates, and pid, log and temp paths in a temporary directory (nothing needs
 * root). Also an HTTP/2 client of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { upstreamAddress, writeDeployment } from '../../gateway/deployment.mjs';
import {
  freePort,
  requireBinary,
  startProcess,
  stopIfNotReady,
  waitForPort,
  type StartedProcess,
} from './processes.js';

export {
  COMPOSE_DEPLOYMENT_DIR,
  GATEWAY_DIR,
  shippedFailTimeoutMs,
  shippedUpstreamParameters,
} from '../../gateway/deployment.mjs';

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

/** Starts nginx with the project's gateway configuration; resolves once it accepts connections. */
export async function startGateway(options: StartGatewayOptions): Promise<Gateway> {
  const nginx = requireBinary('nginx', NGINX_HINT);
  if (options.upstreams.length === 0) throw new Error('startGateway: no upstreams given');
  const upstreams = options.upstreams.map((u) =>
    upstreamAddress(typeof u === 'string' ? u : u.url),
  );
  const host = options.host ?? '127.0.0.1';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cybercorp-gateway-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  let deployment: ReturnType<typeof writeDeployment>;
  try {
    deployment = writeDeployment(dir, {
      host,
      port,
      upstreams,
      certs: options.certs,
      bindAddress: options.bindAddress,
    });
  } catch (error) {
    removeDir();
    throw error;
  }
  const { accessLogPath, errorLogPath } = deployment;

  const process = startProcess(nginx, deployment.args, { name: 'nginx (gateway)' });
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

export interface H2Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as sent on the wire (still gzip-compressed when `content-encoding` says so). */
  raw: Buffer;
  /** The body, decompressed. */
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

export interface H2ClientOptions {
  /** The CA the gateway's certificate is checked against (PEM). */
  ca: string | Buffer;
  /** Loopback source address (127.0.0.0/8) to connect from, to be one of several clients. */
  localAddress?: string;
}

/**
 * An HTTP/2 client of the gateway over one TLS connection (ALPN h2 only: a server that does not
 * speak HTTP/2 fails the connection). Requests run concurrently on the connection's streams.
 */
export class H2Client {
  private constructor(private readonly session: ClientHttp2Session) {}

  static connect(url: string, options: H2ClientOptions): Promise<H2Client> {
    if (options.localAddress && !/^127\.\d+\.\d+\.\d+$/.test(options.localAddress)) {
      throw new Error(`tests use loopback source addresses only, not ${options.localAddress}`);
    }
    return new Promise((resolve, reject) => {
      const session = connect(url, {
        ca: options.ca,
        ALPNProtocols: ['h2'],
        ...(options.localAddress && { localAddress: options.localAddress }),
      });
      session.once('error', reject);
      session.once('connect', () => {
        session.off('error', reject);
        session.on('error', () => undefined);
        resolve(new H2Client(session));
      });
    });
  }

  /** The protocol ALPN settled on (`h2`). */
  get alpnProtocol(): string | undefined {
    return this.session.alpnProtocol;
  }

  request(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; json?: unknown; body?: Uint8Array } = {},
  ): Promise<H2Reply> {
    const headers: Record<string, string> = {
      ':method': method,
      ':path': path,
      'accept-encoding': 'gzip',
      ...options.headers,
    };
    let payload: Uint8Array | undefined = options.body;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] ??= 'application/json';
    }
    return new Promise((resolve, reject) => {
      const stream = this.session.request(headers);
      stream.setTimeout(30_000, () => stream.close());
      let responseHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (received) => (responseHeaders = received));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('close', () => {
        const status = Number(responseHeaders[':status'] ?? 0);
        if (status === 0) {
          reject(new Error(`${method} ${path}: the stream closed without an answer`));
          return;
        }
        const raw = Buffer.concat(chunks);
        const body = responseHeaders['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        resolve({
          status,
          headers: responseHeaders,
          raw,
          body,
          json: <T>() => JSON.parse(body.toString('utf8')) as T,
        });
      });
      stream.end(payload);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.session.close(() => resolve()));
  }
}
