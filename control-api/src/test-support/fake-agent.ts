import {
  AgentCapabilities,
  AgentToServerSchema,
  CONTROL_CAPABILITY,
  create,
  decodeControlCommand,
  encodeControlData,
  instanceUidFromString,
  recordToKeyValues,
  websocketFrames,
  type AgentToServer,
  type CommandResult,
  type ControlCommand,
  type ServerToAgent,
  type WindowEvent,
} from '@cybercorp/protocol';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';

type Init = Parameters<typeof create<typeof AgentToServerSchema>>[1];

/** What the fake agent answers to a command; `undefined` = stay silent (to provoke timeouts). */
export type Responder = (
  command: ControlCommand,
) => CommandResult | undefined | Promise<CommandResult | undefined>;

export interface FakeAgentOptions {
  url: string;
  token: string;
  instanceUid?: string;
  hostname?: string;
  customCapabilities?: string[];
  respond?: Responder;
  /** Interval of automatic heartbeats after start (0: none, to let the agent go silent). */
  heartbeatMs?: number;
  /** OpAMP AgentCapabilities sent in every message (default: ReportsStatus | ReportsHeartbeat). */
  capabilities?: bigint;
  /** Whether to answer the server's WebSocket pings (default true; false plays a hung agent). */
  autoPong?: boolean;
  /** For a `wss://` URL: the PEM CA the server's certificate is checked against. */
  ca?: string | Buffer;
}

export const ok = (command: ControlCommand, data: unknown = {}): CommandResult => ({
  type: 'result',
  commandId: command.commandId,
  ok: true,
  data,
});

export const failed = (
  command: ControlCommand,
  code: Extract<CommandResult, { ok: false }>['error']['code'],
  message: string = code,
): CommandResult => ({
  type: 'result',
  commandId: command.commandId,
  ok: false,
  error: { code, message },
});

export const FAKE_AGENT_CAPABILITIES = BigInt(
  AgentCapabilities.AgentCapabilities_ReportsStatus |
    AgentCapabilities.AgentCapabilities_ReportsHeartbeat,
);

/** A minimal OpAMP agent over a real WebSocket, for integration tests of the server. */
export class FakeAgent {
  readonly instanceUid: string;
  readonly replies: ServerToAgent[] = [];
  readonly commands: ControlCommand[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** WebSocket pings received from the server. */
  pings = 0;
  private sequence = 0n;
  private waiters: (() => void)[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: FakeAgentOptions,
  ) {
    this.instanceUid = options.instanceUid ?? randomUUID();
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        clearInterval(this.heartbeat);
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('message', (data: Buffer) => void this.onMessage(data));
    ws.on('ping', () => {
      this.pings++;
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.on('error', () => undefined);
  }

  /** Opens the socket; rejects with `.status` set when the server refuses the upgrade. */
  static connect(options: FakeAgentOptions): Promise<FakeAgent> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(options.url, {
        headers: { authorization: `Bearer ${options.token}` },
        autoPong: options.autoPong ?? true,
        ...(options.ca !== undefined && { ca: options.ca }),
      });
      ws.once('unexpected-response', (_req, res) => {
        reject(
          Object.assign(new Error(`upgrade refused with ${res.statusCode}`), {
            status: res.statusCode,
          }),
        );
        ws.terminate();
      });
      ws.once('error', reject);
      ws.once('open', () => resolve(new FakeAgent(ws, options)));
    });
  }

  /** Connects and sends the full first message (description and custom capabilities). */
  static async start(options: FakeAgentOptions): Promise<FakeAgent> {
    const agent = await FakeAgent.connect(options);
    await agent.sendAndWait({
      agentDescription: {
        identifyingAttributes: recordToKeyValues({
          'service.name': 'fake-agent',
          'service.instance.id': agent.instanceUid,
        }),
        nonIdentifyingAttributes: recordToKeyValues({
          'host.name': options.hostname ?? 'fake-host',
          'os.type': 'linux',
        }),
      },
      customCapabilities: { capabilities: options.customCapabilities ?? [CONTROL_CAPABILITY] },
    });
    const heartbeatMs = options.heartbeatMs ?? 300;
    if (heartbeatMs > 0) agent.heartbeat = setInterval(() => agent.send(), heartbeatMs);
    return agent;
  }

  send(init: Init = {}): void {
    const message: AgentToServer = create(AgentToServerSchema, {
      instanceUid: instanceUidFromString(this.instanceUid),
      sequenceNum: this.sequence++,
      capabilities: this.options.capabilities ?? FAKE_AGENT_CAPABILITIES,
      ...init,
    });
    this.ws.send(websocketFrames.encodeAgentToServer(message));
  }

  /** Sends a message and resolves with the server's reply to it. */
  async sendAndWait(init: Init = {}): Promise<ServerToAgent> {
    const before = this.replies.length;
    this.send(init);
    await this.until(() => this.replies.length > before);
    return this.replies[before]!;
  }

  sendWindowEvent(event: WindowEvent): void {
    this.send({
      customMessage: {
        capability: CONTROL_CAPABILITY,
        type: event.type,
        data: encodeControlData(event),
      },
    });
  }

  sendRaw(data: Buffer): void {
    this.ws.send(data);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Announces the disconnect the OpAMP way, then closes. */
  async disconnect(): Promise<void> {
    this.send({ agentDisconnect: {} });
    await this.closed;
  }

  /** Drops the connection without a goodbye. */
  async drop(): Promise<void> {
    this.ws.terminate();
    await this.closed;
  }

  async until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > timeoutMs)
        throw new Error('fake agent: condition not met in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private async onMessage(data: Buffer): Promise<void> {
    const message = websocketFrames.decodeServerToAgent(data);
    this.replies.push(message);
    const custom = message.customMessage;
    if (custom && custom.capability === CONTROL_CAPABILITY) {
      const command = decodeControlCommand(custom.data);
      this.commands.push(command);
      const result = await (this.options.respond ?? defaultResponder)(command);
      if (result && this.ws.readyState === WebSocket.OPEN) {
        this.send({
          customMessage: {
            capability: CONTROL_CAPABILITY,
            type: 'result',
            data: encodeControlData(result),
          },
        });
      }
    }
    for (const wake of this.waiters.splice(0)) wake();
  }
}

export const PROCESS_FIXTURE = [
  {
    pid: 4242,
    ppid: 1,
    name: 'sleep',
    user: 'tester',
    state: 'S',
    cpuPercent: 0,
    memoryBytes: 1_048_576,
    command: 'sleep 1000',
    startedAt: '2026-01-01T00:00:00.000Z',
  },
];

export const WINDOW_FIXTURE = [
  {
    id: '0x1a00003',
    title: 'xterm',
    pid: 4242,
    bounds: { x: 0, y: 0, width: 640, height: 480 },
    active: true,
    minimized: false,
    maximized: false,
  },
];

export const defaultResponder: Responder = (command) => {
  switch (command.type) {
    case 'process.list':
      return ok(command, PROCESS_FIXTURE);
    case 'window.list':
      return ok(command, WINDOW_FIXTURE);
    default:
      return ok(command, {});
  }
};
