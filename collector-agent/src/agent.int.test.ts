import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONTROL_CAPABILITY,
  create,
  decodeAgentMessage,
  encodeControlData,
  keyValuesToRecord,
  ServerToAgentSchema,
  websocketFrames,
  WINDOWS_CAPABILITY,
  type AgentToServer,
  type CommandResult,
  type ControlCommand,
} from '@cybercorp/protocol';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type PerMessageDeflateOptions, type WebSocket } from 'ws';
import { PrivateDisplay, requirePrograms } from '../../e2e/support/xvfb.js';
import { startAgent, type RunningAgent } from './agent.js';
import { createWindowController } from './control/windows.factory.js';
import type { WindowController } from './control/windows.js';
import { silentLogger } from './logger.js';

const TOKEN = 'agent-token-for-tests';

/** A minimal OpAMP server: bearer check at the upgrade, then records every AgentToServer. */
class FakeControlPlane {
  readonly messages: AgentToServer[] = [];
  readonly sockets: WebSocket[] = [];
  /** The TCP sockets under `sockets`, to count bytes on the wire. */
  readonly wires: Duplex[] = [];
  /** Each accepted upgrade's Sec-WebSocket-Extensions answer. */
  readonly extensionAnswers: string[] = [];
  rejectedUpgrades = 0;
  private waiters: Array<() => void> = [];
  private readonly http: Server;
  private readonly wss: WebSocketServer;

  constructor(options: { perMessageDeflate?: PerMessageDeflateOptions } = {}) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: options.perMessageDeflate ?? false,
    });
    this.wss.on('headers', (headers) => {
      const answer = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
      this.extensionAnswers.push(answer?.replace(/^[^:]*:\s*/, '') ?? '');
    });
    this.http = createServer((_req, res) => res.writeHead(404).end());
    this.http.on('upgrade', (request, socket, head) => {
      socket.on('error', () => {}); // a refused client may reset the connection; that is fine
      if (request.headers.authorization !== `Bearer ${TOKEN}`) {
        this.rejectedUpgrades++;
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        this.notify();
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        this.sockets.push(ws);
        this.wires.push(socket);
        ws.on('message', (data: Buffer) => {
          this.messages.push(websocketFrames.decodeAgentToServer(new Uint8Array(data)));
          this.notify();
        });
        this.notify();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    const address = this.http.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return `ws://127.0.0.1:${address.port}/v1/opamp`;
  }

  private notify() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Waits (bounded) until `probe` returns something. */
  async until<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== undefined && found !== false) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(command: ControlCommand, socket = this.sockets.at(-1)) {
    if (!socket) throw new Error('no agent connected');
    const message = create(ServerToAgentSchema, {
      customMessage: {
        capability: CONTROL_CAPABILITY,
        type: command.type,
        data: encodeControlData(command),
      },
    });
    socket.send(websocketFrames.encodeServerToAgent(message));
  }

  results(commandId: string): CommandResult[] {
    return this.messages
      .filter((m) => m.customMessage?.type === 'result')
      .map((m) => decodeAgentMessage(m.customMessage?.data ?? new Uint8Array()) as CommandResult)
      .filter((r) => r.commandId === commandId);
  }

  async result(commandId: string, count = 1): Promise<CommandResult> {
    const all = await this.until(() => {
      const found = this.results(commandId);
      return found.length >= count ? found : undefined;
    }, `result of ${commandId}`);
    return all[count - 1] as CommandResult;
  }

  async close() {
    for (const socket of this.sockets) socket.terminate();
    this.wss.close();
    await new Promise((resolve) => this.http.close(resolve));
  }
}

let server: FakeControlPlane;
let url: string;
let stateDir: string;
const agents: RunningAgent[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  server = new FakeControlPlane();
  url = await server.listen();
  stateDir = await mkdtemp(join(tmpdir(), 'agent-int-'));
});

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await server.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function agent(
  env: Record<string, string> = {},
  configPath?: string,
  windows?: WindowController,
) {
  const started = await startAgent({
    windows,
    env: {
      CYBERCORP_CONTROL_URL: url,
      CYBERCORP_AGENT_TOKEN: TOKEN,
      CYBERCORP_AGENT_STATE_DIR: stateDir,
      ...env,
    },
    configPath,
    log: silentLogger,
  });
  agents.push(started);
  return started;
}

const hellos = () => server.messages.filter((m) => m.agentDescription !== undefined);
const command = <T extends ControlCommand['type']>(type: T, fields: object = {}) =>
  ({ type, commandId: randomUUID(), deadline: Date.now() + 10_000, ...fields }) as Extract<
    ControlCommand,
    { type: T }
  >;

describe('agent against an in-test OpAMP server', () => {
  it('authenticates, describes itself, and answers process.list', async () => {
    const running = await agent({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test' });
    const hello = await server.until(() => hellos()[0], 'the first AgentToServer');
    const identifying = keyValuesToRecord(hello.agentDescription?.identifyingAttributes ?? []);
    const descriptive = keyValuesToRecord(hello.agentDescription?.nonIdentifyingAttributes ?? []);
    expect(identifying).toMatchObject({
      'service.name': 'cybercorp-agent',
      'service.instance.id': running.instanceUid,
    });
    expect(descriptive).toMatchObject({
      'host.name': hostname(),
      'os.type': 'linux',
      'deployment.environment': 'test',
    });
    if (existsSync('/etc/machine-id')) expect(descriptive['host.id']).toMatch(/^[0-9a-f]{32}$/);
    expect(hello.customCapabilities?.capabilities).toEqual([CONTROL_CAPABILITY]);
    expect(hello.customCapabilities?.capabilities).not.toContain(WINDOWS_CAPABILITY);

    const list = command('process.list');
    server.send(list);
    const result = await server.result(list.commandId);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const self = (result.data as Array<{ pid: number; command: string }>).find(
      (p) => p.pid === process.pid,
    );
    expect(self?.command).toContain('node');
  });

  it('runs a repeated commandId once: the target sees exactly one SIGTERM', async () => {
    const script =
      "let n=0;process.on('SIGTERM',()=>console.log('SIGTERM '+(++n)));console.log('ready');setInterval(()=>{},1e3)";
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const lines: string[] = [];
    child.stdout
      ?.setEncoding('utf8')
      .on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    await server.until(() => lines.includes('ready'), 'the child to be ready');

    await agent();
    await server.until(() => hellos()[0], 'the agent');
    const terminate = command('process.signal', { pid: child.pid, action: 'terminate' });
    server.send(terminate);
    const first = await server.result(terminate.commandId);
    // Pending standard signals merge: let the first one be handled before the repeat.
    await server.until(() => lines.includes('SIGTERM 1'), 'the first SIGTERM to be handled');
    server.send(terminate);
    const second = await server.result(terminate.commandId, 2);
    expect(first).toEqual({
      type: 'result',
      commandId: terminate.commandId,
      ok: true,
      data: { signals: ['SIGTERM'] },
    });
    expect(second).toEqual(first);

    const another = command('process.signal', { pid: child.pid, action: 'terminate' });
    server.send(another);
    await server.result(another.commandId);
    await server.until(() => lines.includes('SIGTERM 2'), 'the second distinct command to arrive');
    expect(lines.filter((l) => l.startsWith('SIGTERM'))).toEqual(['SIGTERM 1', 'SIGTERM 2']);
  });

  it('refuses pid 1 and its own pid over the wire with protected_process', async () => {
    await agent();
    await server.until(() => hellos()[0], 'the agent');
    for (const pid of [1, process.pid, process.ppid]) {
      const kill = command('process.signal', { pid, action: 'suspend' });
      server.send(kill);
      expect(await server.result(kill.commandId)).toMatchObject({
        ok: false,
        error: { code: 'protected_process' },
      });
    }
    const windows = command('window.list');
    server.send(windows);
    expect(await server.result(windows.commandId)).toMatchObject({
      ok: false,
      error: { code: 'capability_missing' },
    });
  });

  it('reconnects after the server drops the connection and announces itself again', async () => {
    const running = await agent();
    await server.until(() => hellos()[0], 'the first connection');
    server.sockets[0]?.terminate();
    await server.until(
      () => server.sockets.length === 2 && hellos().length === 2,
      'a reconnect',
      15_000,
    );
    expect(running.client?.connections).toBe(2);
    const list = command('process.list');
    server.send(list);
    expect((await server.result(list.commandId)).ok).toBe(true);
  });

  it('keeps retrying with backoff when the token is refused, and never connects', async () => {
    const running = await agent({ CYBERCORP_AGENT_TOKEN: 'wrong' });
    await server.until(() => server.rejectedUpgrades >= 2, 'two refused upgrades', 15_000);
    expect(server.sockets).toHaveLength(0);
    expect(running.client?.connections).toBe(0);
  });

  it('applies a hot-reloaded config: control off is re-announced and refused locally', async () => {
    const configPath = join(stateDir, 'agent.yaml');
    await writeFile(configPath, 'control:\n  enabled: true\n');
    const running = await agent({}, configPath);
    await server.until(() => hellos()[0], 'the agent');
    await writeFile(configPath, 'control:\n  enabled: false\n');
    const update = await server.until(() => hellos()[1], 'the re-announcement');
    expect(update.customCapabilities?.capabilities).toEqual([]);
    expect(running.customCapabilities()).toEqual([]);
    const suspend = command('process.signal', { pid: process.pid, action: 'suspend' });
    server.send(suspend);
    expect(await server.result(suspend.commandId)).toMatchObject({
      ok: false,
      error: { code: 'control_disabled' },
    });
  });

  it('keeps its instance uid across restarts and says AgentDisconnect on stop', async () => {
    const first = await agent();
    await server.until(() => hellos()[0], 'the agent');
    await first.stop();
    await server.until(
      () => server.messages.find((m) => m.agentDisconnect !== undefined),
      'AgentDisconnect',
    );
    const second = await agent();
    expect(second.instanceUid).toBe(first.instanceUid);
  });
});

describe('agent against a server offering permessage-deflate', () => {
  it('negotiates it with a 1 KB window and sends a large result compressed', async () => {
    await server.close();
    // The options the control API offers (control-api/src/opamp/websocket-transport.ts).
    server = new FakeControlPlane({
      perMessageDeflate: {
        serverMaxWindowBits: 10,
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        zlibDeflateOptions: { memLevel: 5, level: 3 },
        concurrencyLimit: 10,
        threshold: 1024,
      },
    });
    url = await server.listen();
    await agent();
    await server.until(() => hellos()[0], 'the first AgentToServer');
    const answer = server.extensionAnswers.at(-1) ?? '';
    expect(answer).toMatch(/^permessage-deflate;/);
    expect(answer).toContain('client_max_window_bits=10');
    expect(answer).toContain('server_max_window_bits=10');

    const wire = server.wires.at(-1) as Socket;
    const before = wire.bytesRead;
    const list = command('process.list');
    server.send(list);
    const result = await server.result(list.commandId);
    expect(result.ok).toBe(true);
    const message = server.messages.find((m) => m.customMessage?.type === 'result');
    const plainBytes = message?.customMessage?.data.length ?? 0;
    expect(plainBytes).toBeGreaterThan(1024);
    expect(wire.bytesRead - before).toBeLessThan(plainBytes / 2);
  });
});

describe('agent with window control on a private Xvfb display', () => {
  it('announces the window capability, forwards window events and acts on its own xterm', async () => {
    await requirePrograms(['Xvfb', 'openbox', 'xterm', 'xprop']);
    const display = await PrivateDisplay.start();
    try {
      const windows = createWindowController({ display: display.display, onFeedError: () => {} });
      await agent({}, undefined, windows);
      const hello = await server.until(() => hellos()[0], 'the agent');
      expect(hello.customCapabilities?.capabilities).toEqual([
        CONTROL_CAPABILITY,
        WINDOWS_CAPABILITY,
      ]);

      const title = `agent-int-${randomUUID().slice(0, 8)}`;
      const xterm = display.spawnXterm(title);
      children.push(xterm);
      const event = await server.until(
        () =>
          server.messages
            .filter((m) => m.customMessage?.type === 'window.event')
            .map((m) => decodeAgentMessage(m.customMessage?.data ?? new Uint8Array()))
            .find((e) => e.type === 'window.event' && e.windows.some((w) => w.title === title)),
        'a window.event listing the new xterm',
        20_000,
      );
      expect(event.type).toBe('window.event');

      const list = command('window.list');
      server.send(list);
      const listed = await server.result(list.commandId);
      if (!listed.ok) throw new Error(`window.list failed: ${listed.error.message}`);
      const mine = (listed.data as Array<{ id: string; title: string; pid: number | null }>).find(
        (w) => w.title === title,
      );
      expect(mine?.pid).toBe(xterm.pid);

      const minimize = command('window.action', { windowId: mine?.id, action: 'minimize' });
      server.send(minimize);
      expect(await server.result(minimize.commandId)).toMatchObject({ ok: true });
      expect(await display.xprop(['-id', mine?.id ?? '', '_NET_WM_STATE'])).toContain(
        '_NET_WM_STATE_HIDDEN',
      );
    } finally {
      for (const running of agents.splice(0)) await running.stop();
      await display.stop();
    }
  });
});

describe('cybercorp-agent binary', () => {
  it('connects with env vars and disconnects cleanly on SIGTERM', async () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    if (!existsSync(bin))
      throw new Error(`${bin} is missing: build first (npx tsc -b collector-agent)`);
    const child = spawn(process.execPath, [bin], {
      env: {
        ...process.env,
        CYBERCORP_CONTROL_URL: url,
        CYBERCORP_AGENT_TOKEN: TOKEN,
        CYBERCORP_AGENT_STATE_DIR: stateDir,
        DISPLAY: '',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );

    const hello = await server
      .until(() => hellos()[0], 'the binary to connect')
      .catch((error: Error) => {
        throw new Error(`${error.message}; agent stderr:\n${stderr}`);
      });
    expect(
      keyValuesToRecord(hello.agentDescription?.identifyingAttributes ?? [])['service.name'],
    ).toBe('cybercorp-agent');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(server.messages.some((m) => m.agentDisconnect !== undefined)).toBe(true);
    expect(stderr).toContain('"msg":"shutting down"');
    expect(stderr).not.toContain(TOKEN);
  });
});
