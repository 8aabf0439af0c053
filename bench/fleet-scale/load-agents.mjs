// One load process of bench/fleet-scale: many simulated agents in one Node process, each the
// agent's own OpAMP client and WebSocket transport (its header, auth, deflate options, heartbeat
// at the interval the server offers, reconnect with backoff and Retry-After), answering every
// control command at once with a fixed process list instead of reading /proc.
// Driven over IPC by run.mjs (see there); it exits when asked or when its parent is gone.
import { randomUUID } from 'node:crypto';
import {
  CONTROL_CAPABILITY,
  decodeControlCommand,
  encodeControlData,
  websocketFrames,
} from '../../protocol/dist/index.js';
import {
  OpampClient,
  SERVICE_NAME,
  WebSocketTransport,
  silentLogger,
} from '../../collector-agent/dist/index.js';

/** How long `stop` waits for the agents' goodbyes before the process exits anyway. */
const STOP_TIMEOUT_MS = 10_000;

/** A process table of `count` entries shaped like a small server's (systemd, sshd, workers...). */
function processTable(count) {
  const programs = [
    ['systemd', 'root', '/sbin/init splash'],
    ['sshd', 'root', 'sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'],
    ['nginx', 'www-data', 'nginx: worker process'],
    ['postgres', 'postgres', 'postgres: 15/main: checkpointer'],
    ['node', 'app', 'node /srv/app/dist/server.js --port 3000 --max-old-space-size=512'],
    ['java', 'kafka', 'java -Xmx1G -Xms1G -server -XX:+UseG1GC -cp /opt/kafka/libs/* kafka.Kafka'],
    ['bash', 'ops', '-bash'],
    ['cron', 'root', '/usr/sbin/cron -f -P'],
    ['rsyslogd', 'syslog', '/usr/sbin/rsyslogd -n -iNONE'],
    ['containerd', 'root', '/usr/bin/containerd --config /etc/containerd/config.toml'],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [name, user, command] = programs[i % programs.length];
    return {
      pid: 1 + i * 37,
      ppid: i === 0 ? 0 : 1,
      name,
      user,
      state: i % 7 === 0 ? 'R' : 'S',
      cpuPercent: ((i * 13) % 100) / 10,
      memoryBytes: 4_194_304 + i * 1_048_576,
      command,
      startedAt: new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString(),
    };
  });
}

/**
 * The transport with what the load process counts: the first answer of each connection that is
 * not an error (a refused agent gets an error_response and reconnects), and its close.
 */
class ObservedTransport {
  constructor(inner, observer) {
    this.inner = inner;
    this.observer = observer;
  }

  connect(handlers) {
    let answered = false;
    return this.inner.connect({
      onOpen: () => handlers.onOpen(),
      onMessage: (frame) => {
        if (!answered && !websocketFrames.decodeServerToAgent(frame).errorResponse) {
          answered = true;
          this.observer.onAnswered();
        }
        handlers.onMessage(frame);
      },
      onClose: (close) => {
        this.observer.onClose(close, answered);
        handlers.onClose(close);
      },
    });
  }
}

const agents = [];
const refusals = {};
let closesAfterAnswer = 0;
let commands = 0;
let table;

/** One simulated agent: resolves `ready` once the server answered its first message. */
function startAgent({ opampUrl, token, localAddress, processes }, index) {
  const uid = randomUUID();
  const agent = { uid, connected: false };
  agent.ready = new Promise((resolve) => {
    agent.markReady = resolve;
  });
  agent.attempted = new Promise((resolve) => {
    agent.markAttempted = resolve;
  });
  const transport = new ObservedTransport(
    new WebSocketTransport({ url: opampUrl, token, localAddress }),
    {
      onAnswered: () => {
        agent.connected = true;
        agent.markAttempted();
        agent.markReady();
      },
      onClose: (close, answered) => {
        agent.connected = false;
        if (answered) closesAfterAnswer++;
        else {
          const status = close.httpStatus ?? (close.wasOpen ? 'error_response' : 'no_upgrade');
          refusals[status] = (refusals[status] ?? 0) + 1;
        }
        agent.markAttempted();
      },
    },
  );
  table ??= processTable(processes);
  agent.client = new OpampClient({
    transport,
    instanceUid: uid,
    attributes: {
      'service.name': SERVICE_NAME,
      'service.instance.id': uid,
      'service.version': '0.1.0',
      'host.name': `fleet-${process.pid}-${index}`,
      'host.id': uid,
      'os.type': 'linux',
    },
    customCapabilities: () => [CONTROL_CAPABILITY],
    onCustomMessage: (message) => {
      if (message.capability !== CONTROL_CAPABILITY) return;
      const command = decodeControlCommand(message.data);
      commands++;
      const result = {
        type: 'result',
        commandId: command.commandId,
        ok: true,
        data: command.type === 'process.list' ? table : {},
      };
      void agent.client.sendCustomMessage(CONTROL_CAPABILITY, 'result', encodeControlData(result));
    },
    log: silentLogger,
  });
  agent.client.start();
  agents.push(agent);
  return agent;
}

/**
 * Starts `count` agents with at most `concurrency` first attempts in flight, and resolves once
 * every one of them is answered (a refused agent retries by itself, as the agent does).
 */
async function start(request) {
  const begun = agents.length;
  const started = [];
  let next = 0;
  const worker = async () => {
    while (next < request.count) {
      const agent = startAgent(request, begun + next++);
      started.push(agent);
      await agent.attempted;
    }
  };
  await Promise.all(Array.from({ length: Math.min(request.concurrency, request.count) }, worker));
  await Promise.all(started.map((agent) => agent.ready));
  return started.map((agent) => agent.uid);
}

async function stopAll() {
  const stopped = Promise.all(agents.map((agent) => agent.client.stop()));
  const timeout = new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref());
  await Promise.race([stopped, timeout]);
}

process.on('disconnect', () => process.exit(0));
process.on('message', (message) => {
  void (async () => {
    switch (message.type) {
      case 'start':
        process.send({ type: 'started', uids: await start(message) });
        break;
      case 'status':
        process.send({
          type: 'status',
          agents: agents.length,
          connected: agents.filter((agent) => agent.connected).length,
          closesAfterAnswer,
          refusals,
          commands,
        });
        break;
      case 'stop':
        await stopAll();
        process.send({ type: 'stopped' });
        process.exit(0);
    }
  })();
});
process.send({ type: 'ready' });
