// Fleet size: how many agents one control API instance holds, and what they cost it.
// Usage: npm run build && node bench/fleet-scale/run.mjs [--agents N] [--commands N]
//        [--duration S] [--load-processes N] [--concurrency N] [--processes N] [--phases 1,2]
//        [--every-agent]   (all options and figures: bench/fleet-scale/README.md)
//   --agents N          agents to ramp up to, per phase (10000)
//   --commands N        process-list commands per measurement, sequential (1000)
//   --duration S        steady-state window in seconds, heartbeats only (60: two heartbeats)
//   --load-processes N  child processes running the simulated agents (4)
//   --concurrency N     first connection attempts in flight per load process (32)
//   --processes N       processes in each simulated agent's process list (50)
//   --phases LIST       1 = one instance, 2 = two instances sharing Redis (1,2)
//   --every-agent       phase 1 ends with a process list from every agent (memory kept per agent)
// Simulated agents are the agent's own OpAMP client and WebSocket transport from
// collector-agent/dist (real header and agent token, protobuf frames, heartbeats at the interval
// the API offers, 30 s), in load processes (load-agents.mjs), each connecting from its own
// loopback source address 127.0.0.<2+i>; each agent answers a command with N processes.
// Phase 1, one instance (its own process, embedded PostgreSQL, OPAMP_MAX_CONNECTIONS = N):
// one agent, then the commands to it (the baseline); then the ramp to N agents (connect rate);
// then agent N+1, which must get 503 with Retry-After while the N stay connected; then the
// steady window; then the commands to random agents among the N (the ratio to the baseline).
// Phase 2, two instances sharing PostgreSQL and a bench-owned redis-server, N/2 agents on each:
// the same, every command entering through the instance that does not hold the agent (relayed).
// RSS: VmRSS of the API process (/proc/<pid>/status) at N minus before any agent, per 1,000;
// each sample also after a full GC in the API child, with V8's heap and external memory.
// CPU: utime+stime (/proc/<pid>/stat) over the steady window, % of one core, for the API and,
// since load and API share the machine's cores, for the load processes too.
// Budget (phase 1): RSS < 600 MB and command p99 < 50 ms at N = 10,000. Prints a table and a
// JSON line. Every process it starts (API children, their PostgreSQL, redis-server, load
// processes) is stopped by the handle it was started with, also when the run fails.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { JWT_KEY_FILE_NAME } from '../../control-api/dist/auth/signing-keys.js';
import { BENCH_ADMIN, forkApiChild, serveApiChild } from '../lib/api-child.mjs';
import { option } from '../lib/options.mjs';
import { cpuSeconds, statusKb } from '../lib/proc-stats.mjs';
import { startRedisServer } from '../lib/redis-server.mjs';
import { percentile } from '../lib/stats.mjs';

const AGENTS = option('--agents', 10_000);
const COMMANDS = option('--commands', 1000);
const DURATION_S = option('--duration', 60);
const LOAD_PROCESSES = option('--load-processes', 4);
const CONCURRENCY = option('--concurrency', 32);
const PROCESSES = option('--processes', 50);
const EVERY_AGENT = process.argv.includes('--every-agent');
const phasesAt = process.argv.indexOf('--phases');
const RUN_PHASES = phasesAt > 0 ? process.argv[phasesAt + 1].split(',').map(Number) : [1, 2];
const RSS_BUDGET_MB = 600;
const P99_BUDGET_MS = 50;
const WARMUP_COMMANDS = 20;
/** How long after agent N+1 was refused the N are counted again. */
const PROBE_SETTLE_MS = 2000;
const EVERY_AGENT_CONCURRENCY = 8;
/** A ramp slower than this many agents a second is a failure, not a figure. */
const SLOWEST_RAMP_PER_SECOND = 20;

/** The API child: starts, reports what the driver needs (its pid too), closes when asked to. */
if (process.argv[2] === '--api-child') {
  await serveApiChild(
    {
      // The REST limiter stays on, at a rate the sequential commands never reach; the baseline
      // agent answers --commands results in well under a minute, more than the default 1,000
      // OpAMP messages a minute allow one connection.
      rateLimitPerMinute: 1_000_000_000,
      opampMessagesPerMinute: 1_000_000,
    },
    async (api) => ({
      url: api.url,
      opampUrl: api.opampUrl,
      databaseUrl: api.databaseUrl,
      agentToken: await api.createAgentToken('fleet-scale'),
    }),
  );
}

const rssMb = (pid) => statusKb(pid, 'VmRSS') / 1024;
const MB = 1024 * 1024;

/**
 * The memory of one API child over a phase. Each sample reads VmRSS as it is, then asks the
 * child for a full GC and reads VmRSS and V8's figures again: the first is what the host sees,
 * the second what the agents keep alive.
 */
function memoryTrack(api) {
  const samples = [];
  return {
    async sample(label) {
      const rss = rssMb(api.pid);
      const usage = await api.memory();
      const sample = {
        label,
        rss,
        rssAfterGc: rssMb(api.pid),
        heapUsed: usage.heapUsed / MB,
        heapTotal: usage.heapTotal / MB,
        external: usage.external / MB,
        arrayBuffers: usage.arrayBuffers / MB,
      };
      samples.push(sample);
      return sample;
    },
    /** RSS per 1,000 agents: the highest RSS at N (and after a GC) minus before any agent. */
    summary(agents) {
      const [before, ...atN] = samples;
      const peak = Math.max(...atN.map((x) => x.rss));
      const last = atN.at(-1);
      const perThousand = (mb) => (mb / agents) * 1000;
      return {
        beforeMb: before.rss,
        peakMb: peak,
        per1000Mb: perThousand(peak - before.rss),
        afterGcPer1000Mb: perThousand(last.rssAfterGc - before.rssAfterGc),
        heapPer1000Mb: perThousand(last.heapUsed - before.heapUsed),
        externalPer1000Mb: perThousand(last.external - before.external),
        samples,
      };
    },
  };
}

const describeSample = (x) =>
  `RSS ${x.rss.toFixed(0)} MB (${x.rssAfterGc.toFixed(0)} after GC; heap ${x.heapUsed.toFixed(0)} of ${x.heapTotal.toFixed(0)}, external ${x.external.toFixed(0)})`;

/** A load process (load-agents.mjs) and a way to ask it one thing at a time. */
async function forkLoadProcess(index) {
  const child = fork(fileURLToPath(new URL('./load-agents.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise((done) => child.once('exit', done));
  const next = () =>
    new Promise((done, fail) => {
      const onExit = (code) => fail(new Error(`load process ${index} exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        done(message);
      });
    });
  await next(); // ready
  const ask = (message) => {
    const answer = next();
    child.send(message);
    return answer;
  };
  return {
    pid: child.pid,
    localAddress: `127.0.0.${2 + index}`,
    ask,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const forced = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.send({ type: 'stop' });
      await exited;
      clearTimeout(forced);
    },
  };
}

async function login(url) {
  const response = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BENCH_ADMIN),
  });
  if (!response.ok) throw new Error(`login: ${response.status} ${await response.text()}`);
  return (await response.json()).accessToken;
}

/** One process-list command through `url`; fails unless it lists every process. */
async function listProcesses(accessToken, url, agentId) {
  const response = await fetch(`${url}/api/v1/agents/${agentId}/processes`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`process list of ${agentId}: ${response.status} ${text}`);
  const { items } = JSON.parse(text);
  if (items.length !== PROCESSES) {
    throw new Error(`process list of ${agentId}: ${items.length} processes, not ${PROCESSES}`);
  }
}

/** `count` sequential process-list commands to `pick()` = {url, agentId}; p50/p99 in ms. */
async function commandLatencies(accessToken, count, pick) {
  const one = () => {
    const { url, agentId } = pick();
    return listProcesses(accessToken, url, agentId);
  };
  for (let i = 0; i < WARMUP_COMMANDS; i++) await one();
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await one();
    latencies.push(performance.now() - start);
  }
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/**
 * A process list from every agent, a few at a time: what each connection keeps once it has
 * carried a large (compressed) message shows only when all of them have. The V8 figures
 * (external, arrayBuffers) show it; RSS then also holds what the allocator kept of the burst.
 */
async function listEveryAgent(accessToken, url, uids) {
  let next = 0;
  const worker = async () => {
    while (next < uids.length) await listProcesses(accessToken, url, uids[next++]);
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: EVERY_AGENT_CONCURRENCY }, worker));
  return (performance.now() - start) / 1000;
}

/**
 * Starts `shares[i]` agents in load process `i` against `targets[i]` at once; resolves with
 * their uids per load process and the connect rate, or fails when the ramp is far too slow.
 */
async function ramp(loads, targets, shares, agentToken) {
  const total = shares.reduce((a, b) => a + b, 0);
  const timeoutMs = Math.max(60_000, (total / SLOWEST_RAMP_PER_SECOND) * 1000);
  const start = performance.now();
  let timer;
  const tooSlow = new Promise((_, fail) => {
    timer = setTimeout(
      () => fail(new Error(`the ramp to ${total} agents took over ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  const started = Promise.all(
    loads.map((load, i) =>
      shares[i] === 0
        ? { uids: [] }
        : load.ask({
            type: 'start',
            opampUrl: targets[i].opampUrl,
            token: agentToken,
            localAddress: load.localAddress,
            count: shares[i],
            concurrency: CONCURRENCY,
            processes: PROCESSES,
          }),
    ),
  );
  try {
    const answers = await Promise.race([started, tooSlow]);
    const seconds = (performance.now() - start) / 1000;
    return { uids: answers.map((a) => a.uids), perSecond: total / seconds, seconds };
  } finally {
    clearTimeout(timer);
  }
}

/** CPU % of one core of each pid over `seconds` of doing nothing but waiting. */
async function cpuOver(pids, seconds) {
  const before = pids.map(cpuSeconds);
  const start = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - start) / 1000;
  return pids.map((pid, i) => ((cpuSeconds(pid) - before[i]) / elapsed) * 100);
}

async function fleetStatus(loads) {
  const answers = await Promise.all(loads.map((load) => load.ask({ type: 'status' })));
  const sum = (key) => answers.reduce((total, a) => total + a[key], 0);
  const refusals = {};
  for (const a of answers) {
    for (const [status, n] of Object.entries(a.refusals))
      refusals[status] = (refusals[status] ?? 0) + n;
  }
  return {
    agents: sum('agents'),
    connected: sum('connected'),
    closesAfterAnswer: sum('closesAfterAnswer'),
    refusals,
  };
}

/** One WebSocket upgrade with the agent token: the refusal's status and Retry-After, or open. */
function tryUpgrade(opampUrl, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(opampUrl, { headers: { authorization: `Bearer ${token}` } });
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101 });
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode, retryAfter: response.headers['retry-after'] });
      response.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** Splits `total` into `parts` shares that differ by at most one. */
function split(total, parts) {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0),
  );
}

const loadPids = (loads) => loads.map((load) => load.pid);
const sumOf = (values) => values.reduce((a, b) => a + b, 0);

/** Phase 1: one instance, capped at AGENTS connections. */
async function oneInstance(cleanups) {
  const api = await forkApiChild(import.meta.url, {
    dataDir: join(workDir, 'one'),
    opampMaxConnections: AGENTS,
  });
  cleanups.push(() => api.close());
  const memory = memoryTrack(api);
  await memory.sample('before');
  const accessToken = await login(api.url);
  const loads = [];
  cleanups.push(() => Promise.all(loads.map((load) => load.stop())));
  for (let i = 0; i < LOAD_PROCESSES; i++) loads.push(await forkLoadProcess(i));
  const targets = loads.map(() => api);

  const first = await ramp(loads, targets, [1, ...split(0, LOAD_PROCESSES - 1)], api.agentToken);
  const baselineAgent = first.uids[0][0];
  const one = await commandLatencies(accessToken, COMMANDS, () => ({
    url: api.url,
    agentId: baselineAgent,
  }));
  console.log(
    `phase 1, 1 agent: command p50 ${one.p50.toFixed(2)} ms, p99 ${one.p99.toFixed(2)} ms`,
  );

  const loadCpuBefore = sumOf(loadPids(loads).map(cpuSeconds));
  const apiCpuBefore = cpuSeconds(api.pid);
  const rest = await ramp(loads, targets, split(AGENTS - 1, LOAD_PROCESSES), api.agentToken);
  const rampCpu = {
    api: ((cpuSeconds(api.pid) - apiCpuBefore) / rest.seconds) * 100,
    load: ((sumOf(loadPids(loads).map(cpuSeconds)) - loadCpuBefore) / rest.seconds) * 100,
  };
  const uids = [baselineAgent, ...rest.uids.flat()];
  console.log(
    `phase 1, ramp to ${AGENTS}: ${rest.perSecond.toFixed(0)} agents/s (${rest.seconds.toFixed(1)} s), ${describeSample(await memory.sample('ramped'))}`,
  );

  // Agent N+1 over OPAMP_MAX_CONNECTIONS = N: refused, and none of the N is dropped for it.
  const beforeProbe = await fleetStatus(loads);
  const overCap = await tryUpgrade(api.opampUrl, api.agentToken);
  await sleep(PROBE_SETTLE_MS);
  const afterProbe = await fleetStatus(loads);
  const cap = {
    status: overCap.status,
    retryAfter: overCap.retryAfter,
    connectedBefore: beforeProbe.connected,
    connectedAfter: afterProbe.connected,
    droppedMeanwhile: afterProbe.closesAfterAnswer - beforeProbe.closesAfterAnswer,
  };
  console.log(
    `phase 1, agent ${AGENTS + 1}: HTTP ${cap.status}, Retry-After ${cap.retryAfter}; connected ${cap.connectedBefore} before, ${cap.connectedAfter} ${PROBE_SETTLE_MS / 1000} s after`,
  );

  const [apiCpu, ...loadCpu] = await cpuOver([api.pid, ...loadPids(loads)], DURATION_S);
  console.log(
    `phase 1, steady ${DURATION_S} s: API CPU ${apiCpu.toFixed(1)} % of a core, load processes ${sumOf(loadCpu).toFixed(1)} %, ${describeSample(await memory.sample('steady'))}`,
  );

  const atN = await commandLatencies(accessToken, COMMANDS, () => ({
    url: api.url,
    agentId: uids[Math.floor(Math.random() * uids.length)],
  }));
  console.log(
    `phase 1, ${AGENTS} agents: command p50 ${atN.p50.toFixed(2)} ms, p99 ${atN.p99.toFixed(2)} ms; ${describeSample(await memory.sample('commands'))}`,
  );
  if (EVERY_AGENT) {
    const everySeconds = await listEveryAgent(accessToken, api.url, uids);
    console.log(
      `phase 1, a process list from each of the ${AGENTS} agents (${everySeconds.toFixed(1)} s): ${describeSample(await memory.sample('every agent answered'))}`,
    );
  }
  const status = await fleetStatus(loads);
  return {
    phase: 'one instance',
    agents: AGENTS,
    connectPerSecond: rest.perSecond,
    rampSeconds: rest.seconds,
    rampCpuPercent: rampCpu,
    memory: [memory.summary(AGENTS)],
    steadyCpuPercent: { api: [apiCpu], load: sumOf(loadCpu) },
    commandsOneAgent: one,
    commandsAtN: atN,
    p50Ratio: atN.p50 / one.p50,
    p99Ratio: atN.p99 / one.p99,
    overCap: cap,
    connectedAtEnd: status.connected,
    droppedDuringRun: status.closesAfterAnswer,
    refusals: status.refusals,
  };
}

/** Phase 2: two instances sharing PostgreSQL and Redis; commands enter the other instance. */
async function twoInstances(cleanups) {
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  const firstDir = join(workDir, 'two-a');
  const a = await forkApiChild(import.meta.url, { dataDir: firstDir, redisUrl: redis.url });
  cleanups.push(() => a.close());
  const b = await forkApiChild(import.meta.url, {
    dataDir: join(workDir, 'two-b'),
    redisUrl: redis.url,
    databaseUrl: a.databaseUrl,
    jwtSecretFile: join(firstDir, JWT_KEY_FILE_NAME),
  });
  cleanups.push(() => b.close());
  const instances = [a, b];
  const memories = instances.map(memoryTrack);
  const sampleBoth = async (label) =>
    (await Promise.all(memories.map((m) => m.sample(label)))).map(describeSample).join(' + ');
  await sampleBoth('before');
  const accessToken = await login(a.url);
  const loads = [];
  cleanups.push(() => Promise.all(loads.map((load) => load.stop())));
  for (let i = 0; i < LOAD_PROCESSES; i++) loads.push(await forkLoadProcess(i));
  // Load processes alternate between the instances; the other instance relays.
  const holder = (i) => i % 2;
  const targets = loads.map((_, i) => instances[holder(i)]);
  const via = (i) => instances[1 - holder(i)];

  const first = await ramp(loads, targets, [1, ...split(0, LOAD_PROCESSES - 1)], a.agentToken);
  const baselineAgent = first.uids[0][0];
  const one = await commandLatencies(accessToken, COMMANDS, () => ({
    url: via(0).url,
    agentId: baselineAgent,
  }));
  console.log(
    `phase 2, 1 agent, relayed: command p50 ${one.p50.toFixed(2)} ms, p99 ${one.p99.toFixed(2)} ms`,
  );

  const perInstance = split(AGENTS, 2);
  const shares = loads.map((_, i) => {
    const sameInstance = loads.filter((__, j) => holder(j) === holder(i)).length;
    const index = loads.slice(0, i).filter((__, j) => holder(j) === holder(i)).length;
    return split(perInstance[holder(i)] - (holder(i) === 0 ? 1 : 0), sameInstance)[index];
  });
  const rest = await ramp(loads, targets, shares, a.agentToken);
  rest.uids[0].unshift(baselineAgent);
  const placed = rest.uids.flatMap((uids, i) =>
    uids.map((agentId) => ({ agentId, url: via(i).url })),
  );
  console.log(
    `phase 2, ramp to ${AGENTS} over two instances: ${rest.perSecond.toFixed(0)} agents/s (${rest.seconds.toFixed(1)} s), ${await sampleBoth('ramped')}`,
  );

  const [cpuA, cpuB, ...loadCpu] = await cpuOver([a.pid, b.pid, ...loadPids(loads)], DURATION_S);
  console.log(
    `phase 2, steady ${DURATION_S} s: API CPU ${cpuA.toFixed(1)} % + ${cpuB.toFixed(1)} % of a core, load processes ${sumOf(loadCpu).toFixed(1)} %, ${await sampleBoth('steady')}`,
  );

  const atN = await commandLatencies(
    accessToken,
    COMMANDS,
    () => placed[Math.floor(Math.random() * placed.length)],
  );
  const status = await fleetStatus(loads);
  console.log(
    `phase 2, ${AGENTS} agents, relayed: command p50 ${atN.p50.toFixed(2)} ms, p99 ${atN.p99.toFixed(2)} ms; ${await sampleBoth('commands')}; ${status.connected} connected`,
  );
  return {
    phase: 'two instances',
    agents: AGENTS,
    connectPerSecond: rest.perSecond,
    rampSeconds: rest.seconds,
    memory: memories.map((m, i) => m.summary(perInstance[i])),
    steadyCpuPercent: { api: [cpuA, cpuB], load: sumOf(loadCpu) },
    commandsOneAgent: one,
    commandsAtN: atN,
    p50Ratio: atN.p50 / one.p50,
    p99Ratio: atN.p99 / one.p99,
    connectedAtEnd: status.connected,
    droppedDuringRun: status.closesAfterAnswer,
    refusals: status.refusals,
  };
}

function printTable(results) {
  const f = (n, digits = 1) => n.toFixed(digits);
  /** One cell per phase: a figure of each instance's memory summary, joined with +. */
  const each = (figure) => results.map((r) => r.memory.map(figure).join(' + '));
  const rows = [
    ['', ...results.map((r) => r.phase)],
    ['agents', ...results.map((r) => String(r.agents))],
    ['connect rate (agents/s)', ...results.map((r) => f(r.connectPerSecond, 0))],
    ['API RSS before (MB)', ...each((m) => f(m.beforeMb, 0))],
    ['API RSS at N, highest (MB)', ...each((m) => f(m.peakMb, 0))],
    ['API RSS per 1,000 agents (MB)', ...each((m) => f(m.per1000Mb, 2))],
    [
      '  after a GC: RSS / heap / external',
      ...each((m) =>
        [m.afterGcPer1000Mb, m.heapPer1000Mb, m.externalPer1000Mb].map((x) => f(x, 2)).join(' / '),
      ),
    ],
    [
      'API CPU steady (% of a core)',
      ...results.map((r) => r.steadyCpuPercent.api.map((x) => f(x)).join(' + ')),
    ],
    ['load processes CPU steady (%)', ...results.map((r) => f(r.steadyCpuPercent.load))],
    [
      'command p50 / p99, 1 agent (ms)',
      ...results.map((r) => `${f(r.commandsOneAgent.p50, 2)} / ${f(r.commandsOneAgent.p99, 2)}`),
    ],
    [
      'command p50 / p99, N agents (ms)',
      ...results.map((r) => `${f(r.commandsAtN.p50, 2)} / ${f(r.commandsAtN.p99, 2)}`),
    ],
    [
      'connected at end / dropped and back',
      ...results.map((r) => `${r.connectedAtEnd} / ${r.droppedDuringRun}`),
    ],
    ['ratio N / 1 (p50, p99)', ...results.map((r) => `${f(r.p50Ratio, 2)}, ${f(r.p99Ratio, 2)}`)],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
}

const workDir = mkdtempSync(join(tmpdir(), 'cybercorp-bench-fleet-'));
const results = [];
let failed = false;
console.log(
  `agents ${AGENTS}, commands ${COMMANDS}, steady window ${DURATION_S} s, load processes ${LOAD_PROCESSES} (concurrency ${CONCURRENCY} each), ${PROCESSES} processes per list`,
);
for (const [phase, run] of [
  [1, oneInstance],
  [2, twoInstances],
]) {
  if (!RUN_PHASES.includes(phase)) continue;
  const cleanups = [];
  try {
    results.push(await run(cleanups));
  } catch (error) {
    failed = true;
    console.error(`phase ${phase} failed:`, error);
  } finally {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error) => console.error('cleanup:', error));
  }
  if (failed) break;
}
rmSync(workDir, { recursive: true, force: true });

if (results.length > 0) printTable(results);
const single = results.find((r) => r.phase === 'one instance');
if (single) {
  const rss = single.memory[0].peakMb;
  const cap = single.overCap;
  console.log(
    `budget at ${single.agents} agents on one instance: RSS ${rss.toFixed(0)} MB (< ${RSS_BUDGET_MB}) ${rss < RSS_BUDGET_MB ? 'OK' : 'OVER'}; ` +
      `command p99 ${single.commandsAtN.p99.toFixed(2)} ms (< ${P99_BUDGET_MS}) ${single.commandsAtN.p99 < P99_BUDGET_MS ? 'OK' : 'OVER'}`,
  );
  const kept = cap.connectedAfter === single.agents && cap.droppedMeanwhile === 0;
  console.log(
    `OPAMP_MAX_CONNECTIONS=${single.agents}: agent ${single.agents + 1} got HTTP ${cap.status} (Retry-After ${cap.retryAfter}) ${cap.status === 503 && cap.retryAfter ? 'OK' : 'WRONG'}; ` +
      `${cap.connectedAfter} of ${single.agents} still connected, ${cap.droppedMeanwhile} dropped meanwhile ${kept ? 'OK' : 'WRONG'}`,
  );
  if (cap.status !== 503 || !kept) failed = true;
}
console.log(JSON.stringify({ bench: 'fleet-scale', results }));
process.exitCode = failed ? 1 : 0;
