// Command round trips REST -> control API -> OpAMP -> agent -> REST on loopback, against a plain
// `GET /healthz` round trip measured in the same run as the baseline, with the limits on and off.
// Usage: npm run build && node bench/command-rtt/run.mjs [--commands N] [--rounds N] [--in-process]
// Prints p50/p99 and commands/s for each kind and the ratios to /healthz (budget: p99 < 20 ms,
// >= 1000 commands/s). Latencies come from N (1,000) sequential calls with Node's fetch;
// throughput from `wrk` (Debian package) with 8 keep-alive connections for a fixed 5 s, so the
// load generator costs little of the two cores the API, PostgreSQL and the agent share.
// Two deployments run side by side, each a control API with its own embedded PostgreSQL and its
// own agent: "limits on" (the REST rate limiter counting every request, the OpAMP message rate
// limit and the connection caps at values that never refuse this load) and "limits off" (REST
// limiter off; the OpAMP limits cannot be switched off, so they sit at their maximum values).
// Rounds (3) alternate between them so that drift on the shared cores hits both alike; the
// medians of the rounds are compared as ratios on/off. Any refusal by a limit fails the run.
// Each control API runs in its own process, as in a deployment; `--in-process` runs them here.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  BENCH_ADMIN,
  describeBenchApi,
  forkApiChild,
  serveApiChild,
  startBenchApi,
} from '../lib/api-child.mjs';
import { option } from '../lib/options.mjs';
import { median, percentile } from '../lib/stats.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const COMMANDS = option('--commands', 1000);
const ROUNDS = option('--rounds', 3);
const CONCURRENCY = 8;
const WRK_SECONDS = 5;

/**
 * The two deployments compared. The bench sends one OpAMP message per command on one connection,
 * at most a few tens of thousands in any minute, so 100,000 a minute never refuses it (the default
 * 1,000 would); connection caps stay at their defaults.
 */
const CONFIGURATIONS = [
  {
    name: 'limits on',
    options: { rateLimitPerMinute: 1_000_000_000, opampMessagesPerMinute: 100_000 },
  },
  {
    name: 'limits off',
    // The largest values config.ts accepts: the OpAMP limits have no "off".
    options: {
      rateLimitPerMinute: 0,
      opampMessagesPerMinute: 1_000_000,
      opampMaxConnections: 1_000_000,
      opampMaxPendingUpgrades: 100_000,
    },
  },
];

/** Sequential latencies (p50/p99) with fetch, then throughput with wrk over `request`. */
async function measure(name, call, request) {
  for (let i = 0; i < 20; i++) await call(i); // warm-up
  const latencies = [];
  for (let i = 0; i < COMMANDS; i++) {
    const start = performance.now();
    await call(i);
    latencies.push(performance.now() - start);
  }
  const perSecond = await wrk(request);
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

/** Requests per second `wrk` reaches for `{url, method, path, token, bodies}`; any non-2xx fails. */
async function wrk({ url, method, path, token, bodies = [] }) {
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
    // Not execFileSync: with --in-process the API answers wrk on this event loop.
    ({ stdout: output } = await promisify(execFile)(
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
        `${url}${path}`,
      ],
      { encoding: 'utf8' },
    ));
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

/** The API child: starts, reports its URLs and agent token, and closes when asked to. */
if (process.argv[2] === '--api-child') {
  await serveApiChild();
}

/** The API in a child process (or in this one with --in-process), seen through its URLs. */
async function launchApi(dataDir, options) {
  if (process.argv.includes('--in-process')) {
    const api = await startBenchApi({ dataDir, ...options });
    return { ...(await describeBenchApi(api)), close: () => api.close() };
  }
  return forkApiChild(import.meta.url, { dataDir, ...options });
}

/** Ends a process this bench spawned and waits for it, unless it has already exited. */
async function stop(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill(signal);
  await exited;
}

async function call(url, method, path, token, body) {
  const response = await fetch(`${url}${path}`, {
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

/** A control API with its own PostgreSQL, its agent online, and a sleep process to signal. */
async function startDeployment(configuration, index) {
  const deployment = { ...configuration, rounds: [] };
  const dir = join(workDir, String(index));
  deployment.api = await launchApi(join(dir, '.data'), configuration.options);
  const { url } = deployment.api;
  // The agent as deployed: through its launcher, with the node flags it runs under.
  deployment.agent = spawn(
    process.execPath,
    [join(root, 'collector-agent/bin/cybercorp-agent.js')],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        CYBERCORP_CONTROL_URL: deployment.api.opampUrl,
        CYBERCORP_AGENT_TOKEN: deployment.api.agentToken,
        CYBERCORP_AGENT_STATE_DIR: join(dir, 'agent'),
        LOG_LEVEL: 'error',
        OTEL_METRICS_EXPORTER: 'none',
      },
    },
  );
  deployment.sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BENCH_ADMIN),
  });
  deployment.accessToken = (await login.json()).accessToken;
  for (let attempt = 0; attempt < 100 && !deployment.agentId; attempt++) {
    const { items } = JSON.parse(await call(url, 'GET', '/api/v1/agents', deployment.accessToken));
    deployment.agentId = items.find((a) => a.online)?.id;
    if (!deployment.agentId) await new Promise((done) => setTimeout(done, 100));
  }
  if (!deployment.agentId) throw new Error(`${configuration.name}: the agent did not come online`);
  return deployment;
}

async function stopDeployment(deployment) {
  if (deployment.sleeper) await stop(deployment.sleeper, 'SIGKILL');
  if (deployment.agent) await stop(deployment.agent, 'SIGTERM');
  if (deployment.api) await deployment.api.close();
}

/** One round of the three kinds against one deployment. */
async function runRound(deployment) {
  const { api, accessToken, agentId, sleeper } = deployment;
  const { url } = api;
  const health = await measure('GET /healthz', () => call(url, 'GET', '/healthz', accessToken), {
    url,
    method: 'GET',
    path: '/healthz',
    token: accessToken,
  });
  const listPath = `/api/v1/agents/${agentId}/processes`;
  const list = await measure('process.list', () => call(url, 'GET', listPath, accessToken), {
    url,
    method: 'GET',
    path: listPath,
    token: accessToken,
  });
  // suspend/resume alternately on the bench's own sleep process, so every signal does something.
  const signalPath = `/api/v1/agents/${agentId}/processes/${sleeper.pid}/actions`;
  const signalBodies = ['suspend', 'resume'].map((action) => ({ action, reason: 'bench' }));
  const signal = await measure(
    'process.signal',
    (i) => call(url, 'POST', signalPath, accessToken, signalBodies[i % 2]),
    { url, method: 'POST', path: signalPath, token: accessToken, bodies: signalBodies },
  );
  deployment.rounds.push({ health, list, signal });
}

/** Requests and OpAMP messages a limit refused, from the deployment's /metrics. */
async function refusals({ api }) {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const refused =
      /^cybercorp_rate_limited_total\{limit="rest"\} (\d+)/.exec(line) ??
      /^cybercorp_opamp_rejected_messages_total\{reason="rate_limited"\} (\d+)/.exec(line) ??
      /^cybercorp_opamp_refused_connections_total\{[^}]*\} (\d+)/.exec(line);
    if (refused) total += Number(refused[1]);
  }
  return total;
}

/** The median of each figure of one kind over the deployment's rounds. */
function medianOf(deployment, kind) {
  const results = deployment.rounds.map((round) => round[kind]);
  return {
    name: results[0].name,
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    perSecond: median(results.map((r) => r.perSecond)),
    all: results,
  };
}

const workDir = mkdtempSync(join(tmpdir(), 'cybercorp-bench-rtt-'));
const deployments = [];
try {
  for (const [index, configuration] of CONFIGURATIONS.entries()) {
    deployments.push(await startDeployment(configuration, index));
  }
  const first = deployments[0];
  const processes = JSON.parse(
    await call(
      first.api.url,
      'GET',
      `/api/v1/agents/${first.agentId}/processes`,
      first.accessToken,
    ),
  ).items;
  console.log(
    `commands: ${COMMANDS} of each kind per round, ${ROUNDS} rounds per configuration, alternating; processes listed per call: ${processes.length}`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    // Which configuration goes first alternates too, so neither always follows the other.
    const order = round % 2 === 0 ? deployments : [...deployments].reverse();
    for (const deployment of order) {
      console.log(`-- round ${round + 1}, ${deployment.name}`);
      await runRound(deployment);
    }
  }
  for (const deployment of deployments) {
    const refused = await refusals(deployment);
    if (refused > 0) {
      throw new Error(`${deployment.name}: the limits refused ${refused} requests or messages`);
    }
  }

  for (const deployment of deployments) {
    console.log(`${deployment.name}, median of ${ROUNDS} rounds:`);
    const health = medianOf(deployment, 'health');
    for (const r of [medianOf(deployment, 'list'), medianOf(deployment, 'signal')]) {
      console.log(
        `${r.name}: p99 ${r.p99.toFixed(2)} ms (budget < 20 ms) ${r.p99 < 20 ? 'OK' : 'OVER'}; ` +
          `${r.perSecond.toFixed(0)} commands/s (budget >= 1000) ${r.perSecond >= 1000 ? 'OK' : 'UNDER'}; ` +
          `p50 ratio to /healthz ${(r.p50 / health.p50).toFixed(2)}, p99 ratio ${(r.p99 / health.p99).toFixed(2)}`,
      );
    }
  }

  const [on, off] = deployments;
  console.log(
    `limits on / limits off, medians of ${ROUNDS} rounds (per-round ratios in brackets):`,
  );
  for (const kind of ['health', 'list', 'signal']) {
    const a = medianOf(on, kind);
    const b = medianOf(off, kind);
    const perRound = (figure) =>
      a.all.map((r, i) => (r[figure] / b.all[i][figure]).toFixed(2)).join(', ');
    console.log(
      `${a.name.padEnd(16)} p50 ${a.p50.toFixed(2)} / ${b.p50.toFixed(2)} ms = ${(a.p50 / b.p50).toFixed(3)} [${perRound('p50')}]   ` +
        `p99 ${a.p99.toFixed(2)} / ${b.p99.toFixed(2)} ms = ${(a.p99 / b.p99).toFixed(3)} [${perRound('p99')}]   ` +
        `${a.perSecond.toFixed(0)} / ${b.perSecond.toFixed(0)} /s = ${(a.perSecond / b.perSecond).toFixed(3)} [${perRound('perSecond')}]`,
    );
  }
} finally {
  for (const deployment of deployments.reverse()) await stopDeployment(deployment);
  rmSync(workDir, { recursive: true, force: true });
}
