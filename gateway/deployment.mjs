// A deployment directory for the shipped configuration, as tests and benches run it: symlinks to
// nginx.conf and proxy.conf (never copies) and the four per-deployment files nginx.conf includes
// (README.md). Plain JavaScript so that both the TypeScript tests and the benches use it.
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GATEWAY_DIR = dirname(fileURLToPath(import.meta.url));
/** The compose deployment, whose upstream parameters (passive health checks) tests reuse. */
export const COMPOSE_DEPLOYMENT_DIR = join(GATEWAY_DIR, 'compose');

/**
 * The parameters after the address on the compose deployment's first `server` line
 * (`max_fails=… fail_timeout=…`): the passive health checks tests run with are the shipped ones.
 */
export function shippedUpstreamParameters() {
  const text = readFileSync(join(COMPOSE_DEPLOYMENT_DIR, 'upstream-servers.conf'), 'utf8');
  const line = /^\s*server\s+\S+\s+([^;]*);/m.exec(text);
  if (!line?.[1]) throw new Error('gateway/compose/upstream-servers.conf has no server line');
  return line[1].trim();
}

const NGINX_TIME_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The shipped `fail_timeout` in milliseconds (shippedUpstreamParameters): how long the gateway's
 * passive health check keeps a server that failed out of rotation. Throws when the parameter is
 * missing or not a plain nginx time (`10s`; no unit means seconds).
 */
export function shippedFailTimeoutMs() {
  const parameters = shippedUpstreamParameters();
  const match = /(?:^|\s)fail_timeout=(\d+)(ms|s|m|h)?(?:\s|$)/.exec(parameters);
  if (!match) {
    throw new Error(
      `gateway/compose/upstream-servers.conf: no fail_timeout=<number>[ms|s|m|h] in "${parameters}"`,
    );
  }
  return Number(match[1]) * NGINX_TIME_UNITS_MS[match[2] ?? 's'];
}

/** `host:port` of an upstream given as an https:// base URL (the gateway speaks TLS to it). */
export function upstreamAddress(baseUrl) {
  const url = new URL(baseUrl);
  if (url.protocol !== 'https:') {
    throw new Error(
      `gateway upstream ${baseUrl}: the gateway re-encrypts to the API, start it with TLS_CERT_FILE/TLS_KEY_FILE`,
    );
  }
  return url.host;
}

/**
 * Writes the deployment into the empty directory `dir` and returns the paths in it and the
 * nginx arguments that run it in the foreground (`nginx -p DIR/ -c DIR/nginx.conf …`).
 */
export function writeDeployment(dir, { host, port, upstreams, certs, bindAddress }) {
  for (const file of readdirSync(GATEWAY_DIR).filter((name) => name.endsWith('.conf'))) {
    symlinkSync(join(GATEWAY_DIR, file), join(dir, file));
  }
  // Run as root, nginx's workers are another user (Debian's default, nobody): they must reach
  // the temp directories nginx creates for them. Nothing secret lies here (the keys stay where
  // they are; the access log holds none).
  chmodSync(dir, 0o755);
  for (const sub of ['deployment', 'logs', 'temp']) mkdirSync(join(dir, sub), { mode: 0o755 });
  const paths = {
    configFile: join(dir, 'nginx.conf'),
    pidFile: join(dir, 'nginx.pid'),
    accessLogPath: join(dir, 'logs', 'access.log'),
    errorLogPath: join(dir, 'logs', 'error.log'),
  };
  const listenHost = host.includes(':') ? `[${host}]` : host;
  const parameters = shippedUpstreamParameters();
  const files = {
    'main.conf': [`pid ${paths.pidFile};`, `error_log ${paths.errorLogPath} warn;`],
    'http.conf': [
      `access_log ${paths.accessLogPath} cybercorp_json;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `${kind}_temp_path ${join(dir, 'temp', kind)};`,
      ),
      ...(bindAddress ? [`proxy_bind ${bindAddress};`] : []),
    ],
    'upstream-servers.conf': upstreams.map((address) => `server ${address} ${parameters};`),
    'server.conf': [
      `listen ${listenHost}:${port} ssl http2;`,
      `ssl_certificate ${certs.certFile};`,
      `ssl_certificate_key ${certs.keyFile};`,
      `proxy_ssl_trusted_certificate ${certs.caFile};`,
    ],
  };
  for (const [name, lines] of Object.entries(files)) {
    writeFileSync(join(dir, 'deployment', name), `${lines.join('\n')}\n`);
  }
  return {
    ...paths,
    args: ['-p', `${dir}/`, '-c', paths.configFile, '-e', paths.errorLogPath, '-g', 'daemon off;'],
  };
}
