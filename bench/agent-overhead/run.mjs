// Runs the CyberCorp agent (telemetry only) and prometheus-node-exporter side by side and
// compares what each costs the host, in three cases of the agent's offline buffer (below),
// measured the same way for both: CPU time over the same window after the same 15 s warm-up — from the scheduler's nanosecond counters of every thread
// (/proc/<pid>/task/*/schedstat; the ratio uses these), cross-checked with utime+stime from
// /proc/<pid>/stat (10 ms ticks, too coarse alone for ~0.1 s over two minutes) — and peak resident
// memory (VmHWM from /proc/<pid>/status, the peak over each process's whole life, startup
// included). Both work on the same 10 s cadence: the agent exports every 10 s, this script
// scrapes node_exporter every 10 s; the output says how many series each side produces.
//
// Usage: npm run build (the bundle the launcher runs) && node bench/agent-overhead/run.mjs
//   BENCH_SECONDS           measured duration after a 15 s warm-up (default 120)
//   BENCH_AGENT_NODE_FLAGS  unset: the agent runs as installed, through its launcher
//                           (collector-agent/bin/cybercorp-agent.js and the node flags on its
//                           first line). Set (even to ""): the bundle the launcher runs,
//                           dist/cybercorp-agent.mjs, runs under
//                           `node <these flags>` instead, to compare flag sets.
//   BENCH_CASES             comma-separated, default all three, each measured in turn against a
//                           fresh node_exporter:
//                           normal   the Collector answers: every batch goes straight out and
//                                    the offline buffer stays empty
//                           outage   nothing listens at the OTLP endpoint: every interval's
//                                    batch is encoded into the in-memory buffer and one empty
//                                    export (does the Collector answer?) is tried, and fails
//                           spool    the same outage with CYBERCORP_BUFFER_SPOOL=file: each
//                                    batch is also written to a 0600 file; the output gives the
//                                    measured batch size and what a full default buffer holds
// The agent exports to a real Collector when scripts/build-otelcol can provide one, otherwise to
// a local OTLP/gRPC sink in this process; the output says which.
// Budget, in every case: our CPU <= 1.0x node_exporter's, our peak RSS < 60 MB.
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_BUFFER_MAX_BYTES } from '../../collector-agent/dist/config/buffer-settings.js';
import { SPOOL_DIRECTORY_NAME } from '../../collector-agent/dist/metrics/batch-spool.js';
import { freeLoopbackPort, waitForPort } from '../lib/ports.mjs';
import { cpuSeconds, statusKb } from '../lib/proc-stats.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const AGENT_BIN = join(ROOT, 'collector-agent/dist/cybercorp-agent.mjs');
const AGENT_LAUNCHER = join(ROOT, 'collector-agent/bin/cybercorp-agent.js');
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const CADENCE_MS = 10_000;
// One cadence plus 5 s: each side's first cycle (the agent's first export at ~10 s compiles the
// export path and opens the gRPC channel; node_exporter's first scrape is at once) stays out.
const WARMUP_MS = 15_000;
/** How long the Collector and node_exporter may take to listen. */
const PORT_TIMEOUT_MS = 10_000;
const RSS_BUDGET_MB = 60;
const CPU_BUDGET_RATIO = 1.0;
const seconds = Number(process.env.BENCH_SECONDS ?? 120);
const CASES = ['normal', 'outage', 'spool'];
const cases = (process.env.BENCH_CASES ?? CASES.join(',')).split(',').map((c) => c.trim());
for (const name of cases)
  if (!CASES.includes(name)) throw new Error(`BENCH_CASES: unknown case ${name} (${CASES})`);
const rawAgentFlags = process.env.BENCH_AGENT_NODE_FLAGS?.split(/\s+/).filter(Boolean);
const agentCommand = rawAgentFlags
  ? { command: process.execPath, args: [...rawAgentFlags, AGENT_BIN] }
  : { command: AGENT_LAUNCHER, args: [] };
if (!Number.isFinite(seconds) || seconds < 10)
  throw new Error('BENCH_SECONDS must be a number >= 10');

// node_exporter collectors comparable to the agent's: CPU, memory, network, filesystems, disks,
// load, boot time and process states (the last reads every /proc/<pid>, as the agent's table does).
const NODE_EXPORTER_COLLECTORS = [
  'cpu',
  'meminfo',
  'netdev',
  'filesystem',
  'diskstats',
  'loadavg',
  'stat',
  'processes',
];

const run = promisify(execFile);
const children = [];
const cleanups = [];

/** Spawns a child this script owns; returns its entry in `children`. */
function start(name, command, args, env = process.env) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const entry = { name, child, stderr: () => stderr, stopped: false };
  child.on('exit', (code, signal) => {
    if (!entry.stopped)
      console.error(`${name} exited early (code ${code}, signal ${signal}):\n${stderr}`);
  });
  children.push(entry);
  return entry;
}

/** CPU seconds of every live thread of one process, from the scheduler's nanosecond counters. */
function schedSeconds(pid) {
  let nanos = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      nanos += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return nanos / 1e9;
}

/** A Collector from scripts/build-otelcol, or undefined with the reason. */
async function findCollector() {
  const script = join(ROOT, 'scripts/build-otelcol');
  if (!existsSync(script)) return { reason: 'scripts/build-otelcol does not exist' };
  try {
    const { stdout } = await run(script, [], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 30 * 60_000,
    });
    const path = stdout.trim().split('\n').at(-1);
    if (!path || !existsSync(path))
      return { reason: `build-otelcol printed no binary path (${path})` };
    return { path };
  } catch (error) {
    return { reason: `build-otelcol failed: ${String(error.message).split('\n')[0]}` };
  }
}

async function startCollector(binary, port, dir) {
  const config = join(dir, 'otelcol.yaml');
  writeFileSync(
    config,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      grpc:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  debug:',
      '    verbosity: basic',
      'service:',
      '  telemetry:',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    metrics:',
      '      receivers: [otlp]',
      '      exporters: [debug]',
      '',
    ].join('\n'),
  );
  start('otelcol', binary, ['--config', config]);
  await waitForPort(port, 'otelcol', PORT_TIMEOUT_MS);
}

/** The smallest OTLP/gRPC metrics receiver, in this process (its cost is not measured). */
async function startSink(port) {
  const { Server, ServerCredentials } = await import('@grpc/grpc-js');
  const server = new Server();
  let exports = 0;
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b) => b,
        requestDeserialize: (b) => b,
        responseSerialize: () => Buffer.alloc(0),
        responseDeserialize: (b) => b,
      },
    },
    {
      Export: (_call, callback) => {
        exports += 1;
        callback(null, Buffer.alloc(0));
      },
    },
  );
  await new Promise((ok, fail) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e) =>
      e ? fail(e) : ok(),
    ),
  );
  cleanups.push(() => server.forceShutdown());
  return () => exports;
}

async function scrape(url) {
  const response = await globalThis.fetch(url);
  if (!response.ok) throw new Error(`scrape ${url}: HTTP ${response.status}`);
  const text = await response.text();
  return text.split('\n').filter((line) => line && !line.startsWith('#')).length;
}

const f = (n, d = 2) => n.toFixed(d);

/** Stops children this script started, by their own handles, and forgets them. */
async function stopChildren(entries) {
  const stopped = [...entries]; // `entries` may be `children` itself, which this empties
  for (const entry of stopped) entry.stopped = true;
  for (const { child } of stopped)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await sleep(300);
  for (const { child } of stopped)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const entry of stopped) children.splice(children.indexOf(entry), 1);
}

/**
 * Runs the agent (with `agentEnv`) and a fresh node_exporter side by side, measures both over
 * the same window after the same warm-up, prints the table, and stops them.
 */
async function measureCase(agentEnv) {
  const agentEntry = start('cybercorp-agent', agentCommand.command, agentCommand.args, {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
    OTEL_METRIC_EXPORT_INTERVAL: String(CADENCE_MS),
    ...agentEnv,
  });
  const exporterPort = await freeLoopbackPort();
  const exporterEntry = start(NODE_EXPORTER, NODE_EXPORTER, [
    `--web.listen-address=127.0.0.1:${exporterPort}`,
    '--collector.disable-defaults',
    ...NODE_EXPORTER_COLLECTORS.map((c) => `--collector.${c}`),
  ]);
  const agent = agentEntry.child;
  const exporter = exporterEntry.child;
  try {
    await waitForPort(exporterPort, 'node_exporter', PORT_TIMEOUT_MS);
    const scrapeUrl = `http://127.0.0.1:${exporterPort}/metrics`;
    console.log(`agent pid ${agent.pid}, node_exporter pid ${exporter.pid}`);
    await scrape(scrapeUrl);
    await sleep(WARMUP_MS);
    const base = {
      agent: cpuSeconds(agent.pid),
      exporter: cpuSeconds(exporter.pid),
      agentSched: schedSeconds(agent.pid),
      exporterSched: schedSeconds(exporter.pid),
    };
    const started = Date.now();
    let series = 0;
    for (let t = CADENCE_MS; t <= seconds * 1000; t += CADENCE_MS) {
      series = await scrape(scrapeUrl);
      await sleep(Math.max(0, started + t - Date.now()));
      for (const { name, child } of children) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`${name} died during the run`);
      }
    }
    const elapsed = (Date.now() - started) / 1000;
    const ours = {
      cpu: schedSeconds(agent.pid) - base.agentSched,
      ticks: cpuSeconds(agent.pid) - base.agent,
      hwmMb: statusKb(agent.pid, 'VmHWM') / 1024,
      rssMb: statusKb(agent.pid, 'VmRSS') / 1024,
    };
    const theirs = {
      cpu: schedSeconds(exporter.pid) - base.exporterSched,
      ticks: cpuSeconds(exporter.pid) - base.exporter,
      hwmMb: statusKb(exporter.pid, 'VmHWM') / 1024,
      rssMb: statusKb(exporter.pid, 'VmRSS') / 1024,
    };
    console.log(
      `measured ${f(elapsed, 0)} s (${Math.round(elapsed / (CADENCE_MS / 1000))} cycles of ${CADENCE_MS / 1000} s)`,
    );
    console.log(
      `                 CPU s   (ticks)   CPU ms/cycle   CPU % of 1 core   peak RSS MB   RSS now MB`,
    );
    const cycles = elapsed / (CADENCE_MS / 1000);
    const row = (name, m) =>
      console.log(
        `${name.padEnd(15)} ${f(m.cpu, 3).padStart(6)}   ${f(m.ticks).padStart(7)}   ${f((1000 * m.cpu) / cycles).padStart(12)}   ${f((100 * m.cpu) / elapsed, 3).padStart(15)}   ${f(m.hwmMb, 1).padStart(11)}   ${f(m.rssMb, 1).padStart(10)}`,
      );
    row('cybercorp-agent', ours);
    row('node_exporter', theirs);
    console.log(
      'CPU s from schedstat (ns, live threads); ticks from /proc/<pid>/stat as a cross-check',
    );
    console.log("peak RSS = VmHWM over each process's whole life (startup included)");
    console.log(`node_exporter series per scrape: ${series}`);
    return {
      cpuRatio: ours.cpu / theirs.cpu,
      rssRatio: ours.hwmMb / theirs.hwmMb,
      hwmMb: ours.hwmMb,
    };
  } finally {
    await stopChildren([agentEntry, exporterEntry]);
  }
}

/** The encoded size of the batches the spool case wrote, and what a full default buffer holds. */
function reportBatchSize(spool) {
  const sizes = readdirSync(spool)
    .filter((name) => name.endsWith('.json'))
    .map((name) => statSync(join(spool, name)).size);
  if (sizes.length === 0) {
    console.log(`spool ${spool}: NO batch files (check the agent)`);
    return;
  }
  const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  const intervals = DEFAULT_BUFFER_MAX_BYTES / mean;
  const hours = (intervals * CADENCE_MS) / 3_600_000;
  console.log(
    `spool: ${sizes.length} batches held, ${f(mean / 1000, 1)} kB each on average ` +
      `(${f(Math.min(...sizes) / 1000, 1)}-${f(Math.max(...sizes) / 1000, 1)}); a full default buffer ` +
      `(${DEFAULT_BUFFER_MAX_BYTES / (1024 * 1024)} MiB) holds ${Math.round(intervals)} intervals = ${f(hours, 2)} h at ${CADENCE_MS / 1000} s`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'agent-overhead-'));
try {
  if (!existsSync(AGENT_BIN)) throw new Error(`${AGENT_BIN} missing: build first (npm run build)`);
  if (!existsSync(NODE_EXPORTER)) {
    throw new Error(
      `${NODE_EXPORTER} missing: install the Debian package prometheus-node-exporter (scripts/setup-deps)`,
    );
  }

  const otlpPort = await freeLoopbackPort();
  const collector = await findCollector();
  let sinkExports;
  let target;
  if (collector.path) {
    await startCollector(collector.path, otlpPort, dir);
    target = `a real OpenTelemetry Collector (${collector.path})`;
  } else {
    sinkExports = await startSink(otlpPort);
    target = `a local OTLP/gRPC sink in the bench process (${collector.reason})`;
  }

  const how = rawAgentFlags
    ? `node ${[...rawAgentFlags, AGENT_BIN].join(' ')}`
    : `${AGENT_LAUNCHER}, ${readFileSync(AGENT_LAUNCHER, 'utf8').split('\n', 1)[0]}`;
  console.log(`agent: ${how}, exporting every ${CADENCE_MS / 1000} s`);
  console.log(
    `node_exporter ${NODE_EXPORTER}, collectors: ${NODE_EXPORTER_COLLECTORS.join(',')}; scraped every ${CADENCE_MS / 1000} s`,
  );
  console.log(`each case: warm-up ${WARMUP_MS / 1000} s, then measuring ${seconds} s`);
  // Nothing listens here: the outage cases' Collector is away for the whole run.
  const unreachablePort = await freeLoopbackPort();
  const summary = [];
  for (const name of cases) {
    const outage = name !== 'normal';
    const stateDir = join(dir, `agent-state-${name}`);
    console.log('');
    console.log(
      `== ${name}: ${outage ? `no Collector at 127.0.0.1:${unreachablePort}, buffer ${name === 'spool' ? 'spooled to files' : 'in memory'}` : `exporting to ${target}`}`,
    );
    const result = await measureCase({
      CYBERCORP_AGENT_STATE_DIR: stateDir,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${outage ? unreachablePort : otlpPort}`,
      ...(name === 'spool' ? { CYBERCORP_BUFFER_SPOOL: 'file' } : {}),
    });
    summary.push({ name, ...result });
    if (name === 'spool') reportBatchSize(join(stateDir, SPOOL_DIRECTORY_NAME));
  }
  if (sinkExports) console.log(`exports received by the sink: ${sinkExports()}`);
  const otelcol = children.find((c) => c.name === 'otelcol');
  if (otelcol) {
    const last = otelcol
      .stderr()
      .split('\n')
      .filter((l) => l.includes('data points'))
      .at(-1);
    const points = /"data points": (\d+)/.exec(last ?? '')?.[1];
    const metrics = /"metrics": (\d+)/.exec(last ?? '')?.[1];
    console.log(
      points
        ? `agent series per export (last batch the Collector logged): ${points} data points in ${metrics} metrics`
        : 'agent series per export: NONE logged by the Collector (check it)',
    );
  }
  console.log('');
  for (const { name, cpuRatio, rssRatio, hwmMb } of summary) {
    console.log(
      `${name.padEnd(7)} ratio CPU agent/node_exporter: ${f(cpuRatio)}x  (budget <= ${CPU_BUDGET_RATIO}x: ${cpuRatio <= CPU_BUDGET_RATIO ? 'within' : 'OVER'});  ` +
        `peak RSS ratio ${f(rssRatio)}x, agent peak RSS ${f(hwmMb, 1)} MB (budget < ${RSS_BUDGET_MB} MB: ${hwmMb < RSS_BUDGET_MB ? 'within' : 'OVER'})`,
    );
  }
} finally {
  await stopChildren(children);
  for (const cleanup of cleanups) cleanup();
  rmSync(dir, { recursive: true, force: true });
}
