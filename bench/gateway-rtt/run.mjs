// Command round trips through the gateway over TLS against the same straight to the API over
// plain HTTP, in one run: REST -> (nginx, TLS 1.3 in, TLS 1.3 out) -> control API -> OpAMP (wss
// through nginx) -> the real agent -> back, versus REST -> control API -> OpAMP (ws) -> agent.
// Usage: npm run build && node bench/gateway-rtt/run.mjs [--commands N] [--rounds N]
// Two deployments side by side, each a control API in its own process with its own embedded
// PostgreSQL and its own agent: "direct" (plain HTTP on loopback) and "gateway" (the API serving
// TLS with scripts/dev-certs certificates, nginx from gateway/ in front). Each round sends N
// (300) sequential GET /healthz, process.list and process.signal (suspend/resume of the bench's
// own sleep process) to each; rounds (3) alternate the order. Clients keep their connections
// alive (HTTP/1.1, as most REST clients) and leave from 32 loopback addresses in turn, so that
// the gateway's per-address edge limit (50 r/s) is not what is measured. Prints p50/p99 per
// kind and the ratios gateway/direct of the medians over the rounds. Any non-2xx fails the run;
// everything started is stopped by its own pid at the end.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BENCH_ADMIN, forkApiChild, serveApiChild } from '../lib/api-child.mjs';
import { makeDevCerts, startGateway } from '../lib/gateway.mjs';
import { option } from '../lib/options.mjs';
import { median, percentile } from '../lib/stats.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const COMMANDS = option('--commands', 300);
const ROUNDS = option('--rounds', 3);
const SOURCE_ADDRESSES = Array.from({ length: 32 }, (_, i) => `127.0.1.${i + 1}`);
/** Limits that never refuse the bench's load (as in bench/command-rtt). */
const LIMITS = { rateLimitPerMinute: 1_000_000_000, opampMessagesPerMinute: 100_000 };

if (process.argv[2] === '--api-child') {
  await serveApiChild();
}

/** A keep-alive REST client of `baseUrl` whose requests leave from the source addresses in turn. */
function restClient(baseUrl, ca) {
  const tls = baseUrl.startsWith('https:');
  const agents = SOURCE_ADDRESSES.map((localAddress) =>
    tls
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, localAddress, ca })
      : new HttpAgent({ keepAlive: true, maxSockets: 1, localAddress }),
  );
  let next = 0;
  const send = (method, path, token, body) =>
    new Promise((done, fail) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = (tls ? httpsRequest : httpRequest)(
        `${baseUrl}${path}`,
        {
          method,
          agent: agents[next++ % agents.length],
          headers: {
            ...(token && { authorization: `Bearer ${token}` }),
            ...(payload && { 'content-type': 'application/json' }),
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode >= 300) {
              fail(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`));
            } else done(text);
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
      req.on('error', fail);
      req.end(payload);
    });
  // Closing every pooled connection: the next calls open new ones (the servers close idle ones
  // after 5 s, and a request sent on a connection as it closes fails).
  const reset = () => agents.forEach((agent) => agent.destroy());
  return { send, reset, close: reset };
}

async function stopChild(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** The API, the gateway for the TLS deployment, its agent and a sleep process to signal. */
async function startDeployment(deployment, certs) {
  const dir = join(workDir, deployment.name);
  const tls = deployment.name === 'gateway';
  deployment.api = await forkApiChild(import.meta.url, {
    dataDir: join(dir, '.data'),
    ...LIMITS,
    ...(tls && { tlsCertFile: certs.certFile, tlsKeyFile: certs.keyFile }),
  });
  let { url, opampUrl } = deployment.api;
  if (tls) {
    deployment.gateway = await startGateway({ upstreams: [url], certs });
    ({ url, opampUrl } = deployment.gateway);
  }
  deployment.url = url;
  deployment.client = restClient(url, readFileSync(certs.caFile));
  // The agent as deployed, through its launcher; it trusts the development CA.
  deployment.agent = spawn(
    process.execPath,
    [join(root, 'collector-agent/bin/cybercorp-agent.js')],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        CYBERCORP_CONTROL_URL: opampUrl,
        CYBERCORP_AGENT_TOKEN: deployment.api.agentToken,
        CYBERCORP_AGENT_STATE_DIR: join(dir, 'agent'),
        NODE_EXTRA_CA_CERTS: certs.caFile,
        LOG_LEVEL: 'error',
        OTEL_METRICS_EXPORTER: 'none',
      },
    },
  );
  deployment.sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  const { send } = deployment.client;
  const login = await send('POST', '/api/v1/auth/login', undefined, BENCH_ADMIN);
  deployment.token = JSON.parse(login).accessToken;
  for (let attempt = 0; attempt < 150 && !deployment.agentId; attempt++) {
    const { items } = JSON.parse(await send('GET', '/api/v1/agents', deployment.token));
    deployment.agentId = items.find((a) => a.online)?.id;
    if (!deployment.agentId) await new Promise((done) => setTimeout(done, 100));
  }
  if (!deployment.agentId) throw new Error(`${deployment.name}: the agent did not come online`);
}

async function stopDeployment(deployment) {
  deployment.client?.close();
  if (deployment.sleeper) await stopChild(deployment.sleeper, 'SIGKILL');
  if (deployment.agent) await stopChild(deployment.agent, 'SIGTERM');
  await deployment.gateway?.stop();
  await deployment.api?.close();
}

/** N sequential calls after a warm-up that opens every source address's connection; p50, p99. */
async function measure(client, call) {
  client.reset();
  for (let i = 0; i < 2 * SOURCE_ADDRESSES.length; i++) await call(i);
  const latencies = [];
  for (let i = 0; i < COMMANDS; i++) {
    const start = performance.now();
    await call(i);
    latencies.push(performance.now() - start);
  }
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const KINDS = ['GET /healthz', 'process.list', 'process.signal'];

async function runRound(deployment) {
  const { send } = deployment.client;
  const { token, agentId, sleeper } = deployment;
  const signalPath = `/api/v1/agents/${agentId}/processes/${sleeper.pid}/actions`;
  const actions = ['suspend', 'resume'].map((action) => ({ action, reason: 'bench' }));
  const calls = {
    'GET /healthz': () => send('GET', '/healthz', token),
    'process.list': () => send('GET', `/api/v1/agents/${agentId}/processes`, token),
    'process.signal': (i) => send('POST', signalPath, token, actions[i % 2]),
  };
  const round = {};
  for (const kind of KINDS) {
    round[kind] = await measure(deployment.client, calls[kind]);
    console.log(
      `${deployment.name.padEnd(8)} ${kind.padEnd(15)} p50 ${round[kind].p50.toFixed(2)} ms   p99 ${round[kind].p99.toFixed(2)} ms`,
    );
  }
  deployment.rounds.push(round);
}

const workDir = mkdtempSync(join(tmpdir(), 'cybercorp-bench-gateway-rtt-'));
const deployments = [
  { name: 'direct', rounds: [] },
  { name: 'gateway', rounds: [] },
];
try {
  const certs = await makeDevCerts(join(workDir, 'certs'));
  for (const deployment of deployments) await startDeployment(deployment, certs);
  console.log(
    `${COMMANDS} calls of each kind per round, ${ROUNDS} rounds, alternating; gateway ${deployments[1].url}`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? deployments : [...deployments].reverse();
    console.log(`-- round ${round + 1}`);
    for (const deployment of order) await runRound(deployment);
  }
  const [direct, gateway] = deployments;
  console.log(`gateway over TLS / direct plain HTTP, medians of ${ROUNDS} rounds:`);
  for (const kind of KINDS) {
    const figure = (deployment, name) => median(deployment.rounds.map((r) => r[kind][name]));
    const line = ['p50', 'p99'].map((name) => {
      const [g, d] = [figure(gateway, name), figure(direct, name)];
      return `${name} ${g.toFixed(2)} / ${d.toFixed(2)} ms = ${(g / d).toFixed(2)}`;
    });
    console.log(`${kind.padEnd(15)} ${line.join('   ')}`);
  }
} finally {
  for (const deployment of [...deployments].reverse()) await stopDeployment(deployment);
  rmSync(workDir, { recursive: true, force: true });
}
