// OpAMP WebSocket with and without permessage-deflate, in one run: N agents' worth of heartbeats
// (and, for contrast, process-list results) over loopback against the control API.
// Usage: npm run build && node bench/opamp-deflate/run.mjs [--agents N] [--heartbeats H]
//        [--results R] [--rounds K]
// Each agent connects with the agent's own deflate options (or with deflate off), sends its full
// state, then H heartbeats, each waiting for the server's reply as the real agent's do; then
// R results carrying a 300-process list. Bytes are the client sockets' bytesWritten + bytesRead
// (both directions, frame headers included, handshake excluded); CPU is process.cpuUsage() of
// this process (the agents' side) and of the control API, which runs in its own process.
// Prints bytes and CPU per message for both modes (median of --rounds alternating rounds) and
// the ratio deflate / no-deflate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentCapabilities,
  AgentToServerSchema,
  CONTROL_CAPABILITY,
  create,
  encodeControlData,
  instanceUidFromString,
  recordToKeyValues,
  websocketFrames,
} from '../../protocol/dist/index.js';
import { AGENT_PER_MESSAGE_DEFLATE } from '../../collector-agent/dist/opamp/websocket-transport.js';
import WebSocket from 'ws';
import { forkApiChild, serveApiChild } from '../lib/api-child.mjs';
import { option } from '../lib/options.mjs';
import { upperMedian } from '../lib/stats.mjs';

const AGENTS = option('--agents', 200);
const HEARTBEATS = option('--heartbeats', 20);
const RESULTS = option('--results', 3);
const ROUNDS = option('--rounds', 3);

/** The run whose figures are each the median over the runs of one mode. */
function medianRun(runs) {
  const figures = (kind) =>
    Object.fromEntries(
      Object.keys(runs[0][kind]).map((key) => [
        key,
        upperMedian(runs.map((run) => run[kind][key])),
      ]),
    );
  return { ...runs[0], heartbeat: figures('heartbeat'), result: figures('result') };
}

async function main() {
  const workDir = mkdtempSync(join(tmpdir(), 'cybercorp-bench-deflate-'));
  const api = await forkApiChild(import.meta.url, { dataDir: join(workDir, '.data') });
  const { opampUrl, agentToken, cpu: apiCpu } = api;

  try {
    // Warm-up in both modes (JIT, pool connections, zlib), then the measured runs.
    await runMode({ opampUrl, agentToken, deflate: false, agents: 20, apiCpu });
    await runMode({ opampUrl, agentToken, deflate: true, agents: 20, apiCpu });
    // Rounds in alternating order (off/on, on/off, ...); the median of each figure is reported,
    // so neither mode always runs first on a warmer (or busier) machine.
    const offs = [];
    const ons = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const deflate of round % 2 === 0 ? [false, true] : [true, false]) {
        const run = await runMode({ opampUrl, agentToken, deflate, agents: AGENTS, apiCpu });
        (deflate ? ons : offs).push(run);
      }
    }
    report(medianRun(offs), medianRun(ons));
  } finally {
    await api.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

const CAPABILITIES =
  BigInt(AgentCapabilities.AgentCapabilities_ReportsStatus) |
  BigInt(AgentCapabilities.AgentCapabilities_ReportsHeartbeat) |
  BigInt(AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings);

/** A process list as the agent sends it: 300 entries of realistic shape. */
const PROCESSES = Array.from({ length: 300 }, (_, i) => ({
  pid: 1000 + i,
  ppid: i % 7 === 0 ? 1 : 1000 + (i % 50),
  name: ['node', 'postgres', 'bash', 'sshd', 'systemd-journald', 'chromium'][i % 6],
  user: ['root', 'postgres', 'alice', 'www-data'][i % 4],
  state: i % 9 === 0 ? 'R' : 'S',
  cpuPercent: ((i * 37) % 100) / 10,
  memoryBytes: 1_048_576 * ((i * 13) % 512),
  command: `/usr/bin/${['node', 'postgres', 'bash', 'sshd'][i % 4]} --worker ${i} --config /etc/app/${i % 5}.yaml`,
  startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
}));

class BenchAgent {
  static connect(url, token, deflate) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${token}` },
        perMessageDeflate: deflate ? AGENT_PER_MESSAGE_DEFLATE : false,
      });
      let socket;
      ws.once('upgrade', (response) => (socket = response.socket));
      ws.once('open', () => resolve(new BenchAgent(ws, socket)));
      ws.once('error', reject);
    });
  }

  constructor(ws, socket) {
    this.ws = ws;
    this.socket = socket;
    this.uid = instanceUidFromString(crypto.randomUUID());
    this.sequence = 0n;
    this.waiting = undefined;
    ws.on('message', () => {
      const wake = this.waiting;
      this.waiting = undefined;
      wake?.();
    });
  }

  get bytes() {
    return this.socket.bytesWritten + this.socket.bytesRead;
  }

  /** Sends one AgentToServer and waits for the reply to it. */
  exchange(fields = {}) {
    const replied = new Promise((resolve) => (this.waiting = resolve));
    const message = create(AgentToServerSchema, {
      instanceUid: this.uid,
      sequenceNum: this.sequence++,
      capabilities: CAPABILITIES,
      ...fields,
    });
    this.ws.send(websocketFrames.encodeAgentToServer(message));
    return replied;
  }

  close() {
    return new Promise((resolve) => {
      this.ws.once('close', resolve);
      this.ws.close(1000);
    });
  }
}

const cpuMs = (start, end) => (end.user - start.user + (end.system - start.system)) / 1000;

async function measure(agents, apiCpu, count, send) {
  const bytesBefore = agents.reduce((sum, a) => sum + a.bytes, 0);
  const clientBefore = process.cpuUsage();
  const apiBefore = await apiCpu();
  await Promise.all(
    agents.map(async (agent) => {
      for (let i = 0; i < count; i++) await send(agent, i);
    }),
  );
  const apiAfter = await apiCpu();
  const clientAfter = process.cpuUsage();
  const messages = agents.length * count;
  return {
    bytes: (agents.reduce((sum, a) => sum + a.bytes, 0) - bytesBefore) / messages,
    clientCpuUs: (cpuMs(clientBefore, clientAfter) * 1000) / messages,
    apiCpuUs: (cpuMs(apiBefore, apiAfter) * 1000) / messages,
  };
}

async function runMode({ opampUrl, agentToken, deflate, agents: count, apiCpu }) {
  const agents = [];
  for (let i = 0; i < count; i++)
    agents.push(await BenchAgent.connect(opampUrl, agentToken, deflate));
  await Promise.all(
    agents.map((agent, i) =>
      agent.exchange({
        agentDescription: {
          identifyingAttributes: recordToKeyValues({ 'service.name': 'bench-agent' }),
          nonIdentifyingAttributes: recordToKeyValues({
            'host.name': `bench-${i}`,
            'os.type': 'linux',
          }),
        },
        customCapabilities: { capabilities: [CONTROL_CAPABILITY] },
      }),
    ),
  );
  const heartbeat = await measure(agents, apiCpu, HEARTBEATS, (agent) => agent.exchange());
  const result = await measure(agents, apiCpu, RESULTS, (agent) =>
    agent.exchange({
      customMessage: {
        capability: CONTROL_CAPABILITY,
        type: 'result',
        data: encodeControlData({
          type: 'result',
          commandId: crypto.randomUUID(),
          ok: true,
          data: PROCESSES,
        }),
      },
    }),
  );
  const extensions = agents[0].ws.extensions;
  await Promise.all(agents.map((agent) => agent.close()));
  return { deflate, agents: count, negotiated: extensions, heartbeat, result };
}

function report(off, on) {
  console.log(
    `${AGENTS} agents × ${HEARTBEATS} heartbeats and × ${RESULTS} process-list results (300 processes), loopback; median of ${ROUNDS} rounds per mode`,
  );
  console.log(
    `negotiated with deflate: ${on.negotiated || '(none)'}; without: ${off.negotiated || '(none)'}`,
  );
  const row = (label, o, n, unit, digits) =>
    console.log(
      `${label.padEnd(34)} off ${o.toFixed(digits).padStart(9)} ${unit}   on ${n.toFixed(digits).padStart(9)} ${unit}   ratio on/off ${(n / o).toFixed(2)}`,
    );
  for (const kind of ['heartbeat', 'result']) {
    const name = kind === 'heartbeat' ? 'heartbeat' : 'process-list result';
    row(`${name}: bytes on the wire`, off[kind].bytes, on[kind].bytes, 'B ', 1);
    row(`${name}: agents' CPU`, off[kind].clientCpuUs, on[kind].clientCpuUs, 'µs', 1);
    row(`${name}: control API CPU`, off[kind].apiCpuUs, on[kind].apiCpuUs, 'µs', 1);
  }
}

/** The API child: starts, reports its URLs and an agent token, answers CPU questions, closes. */
if (process.argv[2] === '--api-child') await serveApiChild();
else await main();
