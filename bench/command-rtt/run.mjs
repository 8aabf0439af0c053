// Command round trips REST -> control API -> OpAMP -> agent -> REST on loopback, against a plain
// `GET /healthz` round trip measured in the same run as the baseline.
// Usage: npm run build && node bench/command-rtt/run.mjs [--commands N] [--in-process]
// Prints p50/p99 and commands/s for each kind and the ratios to /healthz (budget: p99 < 20 ms,
// >= 1000 commands/s). Latencies come from 1,000 sequential calls with Node's fetch; throughput
// from `wrk` (Debian package) with 8 keep-alive connections for a fixed 5 s, so the load
// generator costs little of the two cores the API, PostgreSQL and the agent share. The control
// API runs in its own process, as in a deployment; `--in-process` runs it in this process.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startControlApi } from '../../control-api/dist/index.js';
import { forkApiChild, reportAndServeUntilClosed } from '../lib/api-child.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const at = process.argv.indexOf('--commands');
const COMMANDS = at > 0 ? Number(process.argv[at + 1]) : 1000;
const CONCURRENCY = 8;

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const WRK_SECONDS = 5;

/** Sequential latencies (p50/p99) with fetch, then throughput with wrk over `request`. */
async function measure(name, call, request) {
  for (let i = 0; i < 20; i++) await call(i); // warm-up
  const latencies = [];
  for (let i = 0; i < COMMANDS; i++) {
    const start = performance.now();
    await call(i);
    latencies.push(performance.now() - start);
  }
  const perSecond = wrk(request);
  const result = {
    name,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    perSecond,
  };
  console.log(
    `${name.padEnd(16)} p50 ${result.p50.toFixed(2)} ms   p99 ${result.p99.toFixed(2)} ms   ${result.perSecond.toFixed(0)} /s (wrk, ${CONCURRENCY} connections)`,
  );
  return result;
}

/** Requests per second `wrk` reaches for `{method, path, token, bodies}`; any non-2xx fails. */
function wrk({ method, path, token, bodies = [] }) {
  const lua = join(workDir, 'wrk.lua');
  // Bodies rotate per request (suspend, resume, ...), so every signal changes the process.
  writeFileSync(
    lua,
    `wrk.method = ${JSON.stringify(method)}
wrk.headers["authorization"] = ${JSON.stringify(`Bearer ${token}`)}
wrk.headers["content-type"] = "application/json"
local bodies = { ${bodies.map((b) => JSON.stringify(JSON.stringify(b))).join(', ')} }
local i = 0
request = function()
  i = i + 1
  if #bodies == 0 then return wrk.format() end
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end
`,
  );
  let output;
  try {
    output = execFileSync(
      'wrk',
      [
        '-t',
        '1',
        '-c',
        String(CONCURRENCY),
        '-d',
        `${WRK_SECONDS}s`,
        '--timeout',
        '5s',
        '-s',
        lua,
        `${api.url}${path}`,
      ],
      { encoding: 'utf8' },
    );
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error('wrk is not installed (Debian package wrk)');
    throw error;
  }
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  if (bad) throw new Error(`${method} ${path}: ${bad[1]} non-2xx responses under load\n${output}`);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (!rate) throw new Error(`could not read wrk's output:\n${output}`);
  return Number(rate[1]);
}

const password = 'bench-admin-password';

async function startApi(workDir) {
  const api = await startControlApi({
    port: 0,
    dataDir: join(workDir, '.data'),
    adminUser: 'admin',
    adminPassword: password,
    logLevel: 'error',
    // The limiter stays on (its cost is part of every request) but never refuses wrk's load.
    rateLimitPerMinute: 1_000_000_000,
    announce: () => undefined,
  });
  return { api, agentToken: await api.createAgentToken('bench') };
}

/** The API child: starts, reports its URLs and agent token, and closes when asked to. */
if (process.argv[2] === '--api-child') {
  const { api, agentToken } = await startApi(process.argv[3]);
  await reportAndServeUntilClosed(api, { url: api.url, opampUrl: api.opampUrl, agentToken });
}

/** The API in a child process (or in this one with --in-process), seen through its URLs. */
async function launchApi(workDir) {
  if (process.argv.includes('--in-process')) {
    const { api, agentToken } = await startApi(workDir);
    return { url: api.url, opampUrl: api.opampUrl, agentToken, close: () => api.close() };
  }
  return forkApiChild(import.meta.url, [workDir]);
}

const workDir = mkdtempSync(join(tmpdir(), 'cybercorp-bench-rtt-'));
const api = await launchApi(workDir);
const { agentToken } = api;
// The agent as deployed: through its launcher, with the node flags it runs under.
const agent = spawn(process.execPath, [join(root, 'collector-agent/bin/cybercorp-agent.js')], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    CYBERCORP_CONTROL_URL: api.opampUrl,
    CYBERCORP_AGENT_TOKEN: agentToken,
    CYBERCORP_AGENT_STATE_DIR: join(workDir, 'agent'),
    LOG_LEVEL: 'error',
    OTEL_METRICS_EXPORTER: 'none',
  },
});
const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });

async function call(method, path, token, body) {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return text;
}

try {
  const login = await fetch(`${api.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  const { accessToken } = await login.json();
  let agentId;
  for (let attempt = 0; attempt < 100 && !agentId; attempt++) {
    const { items } = JSON.parse(await call('GET', '/api/v1/agents', accessToken));
    agentId = items.find((a) => a.online)?.id;
    if (!agentId) await new Promise((done) => setTimeout(done, 100));
  }
  if (!agentId) throw new Error('the agent did not come online');

  const processes = JSON.parse(
    await call('GET', `/api/v1/agents/${agentId}/processes`, accessToken),
  ).items;
  console.log(`commands: ${COMMANDS} of each kind; processes listed per call: ${processes.length}`);
  const health = await measure('GET /healthz', () => call('GET', '/healthz', accessToken), {
    method: 'GET',
    path: '/healthz',
    token: accessToken,
  });
  const listPath = `/api/v1/agents/${agentId}/processes`;
  const list = await measure('process.list', () => call('GET', listPath, accessToken), {
    method: 'GET',
    path: listPath,
    token: accessToken,
  });
  // suspend/resume alternately on the bench's own sleep process, so every signal does something.
  const signalPath = `/api/v1/agents/${agentId}/processes/${sleeper.pid}/actions`;
  const signalBodies = ['suspend', 'resume'].map((action) => ({ action, reason: 'bench' }));
  const signal = await measure(
    'process.signal',
    (i) => call('POST', signalPath, accessToken, signalBodies[i % 2]),
    { method: 'POST', path: signalPath, token: accessToken, bodies: signalBodies },
  );
  for (const r of [list, signal]) {
    console.log(
      `${r.name}: p99 ${r.p99.toFixed(2)} ms (budget < 20 ms) ${r.p99 < 20 ? 'OK' : 'OVER'}; ` +
        `${r.perSecond.toFixed(0)} commands/s (budget >= 1000) ${r.perSecond >= 1000 ? 'OK' : 'UNDER'}; ` +
        `p50 ratio to /healthz ${(r.p50 / health.p50).toFixed(2)}, p99 ratio ${(r.p99 / health.p99).toFixed(2)}`,
    );
  }
} finally {
  sleeper.kill('SIGKILL');
  agent.kill('SIGTERM');
  await new Promise((done) => agent.once('exit', done));
  await api.close();
  rmSync(workDir, { recursive: true, force: true });
}
