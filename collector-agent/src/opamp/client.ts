import {
  AgentCapabilities,
  create,
  AgentToServerSchema,
  HEARTBEAT_INTERVAL_SECONDS,
  instanceUidFromString,
  instanceUidToString,
  recordToKeyValues,
  ServerErrorResponseType,
  ServerToAgentFlags,
  websocketFrames,
  type CustomMessage,
  type ServerToAgent,
} from '@cybercorp/protocol';
import type { Logger } from '../logger.js';
import {
  DEFAULT_BACKOFF,
  isServiceRestart,
  reconnectDelay,
  serviceRestartDelay,
  type BackoffOptions,
} from './backoff.js';
import type { OpampTransport, TransportClose, TransportConnection } from './transport.js';

type AgentToServerInit = NonNullable<Parameters<typeof create<typeof AgentToServerSchema>>[1]>;

/** Attributes that identify the agent in OpAMP; the rest of the resource is descriptive. */
const IDENTIFYING_ATTRIBUTES = new Set([
  'service.name',
  'service.namespace',
  'service.instance.id',
  'service.version',
]);

/**
 * AcceptsOpAMPConnectionSettings: servers send the heartbeat interval only to agents that accept
 * OpAMP connection settings. We take the interval; a destination_endpoint is not followed (the
 * control URL comes from local configuration only, and the control API offers back the URL used).
 */
export const AGENT_CAPABILITIES =
  BigInt(AgentCapabilities.AgentCapabilities_ReportsStatus) |
  BigInt(AgentCapabilities.AgentCapabilities_ReportsHeartbeat) |
  BigInt(AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings);

/** How long shutdown waits for the AgentDisconnect message to leave. */
const DISCONNECT_TIMEOUT_MS = 1_000;

export interface OpampClientOptions {
  transport: OpampTransport;
  instanceUid: string;
  /** Resource attributes for the AgentDescription. */
  attributes: Record<string, string>;
  /** Non-identifying attributes that change while the agent runs (read at every full state). */
  dynamicAttributes?: () => Record<string, string>;
  /** Custom capabilities to announce right now (they change with config and desktop state). */
  customCapabilities: () => string[];
  onCustomMessage: (message: CustomMessage) => void;
  log: Logger;
  random?: () => number;
  backoff?: BackoffOptions;
}

export type ClientState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped';

/**
 * OpAMP client over a message transport: announces the agent, keeps heartbeats, hands custom
 * messages to the agent, and reconnects with backoff until stopped.
 */
export class OpampClient {
  private state: ClientState = 'idle';
  private connection: TransportConnection | undefined;
  private sequenceNum = 0n;
  private attempt = 0;
  private heartbeatSeconds = HEARTBEAT_INTERVAL_SECONDS;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private retryAfterMs: number | undefined;
  private readonly uid: Uint8Array;
  private readonly connectListeners = new Set<() => void>();
  /** Connections established so far; useful to observe reconnects. */
  connections = 0;

  constructor(private readonly options: OpampClientOptions) {
    this.uid = instanceUidFromString(options.instanceUid);
  }

  get status(): ClientState {
    return this.state;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.connect();
  }

  onConnected(listener: () => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  /** Sends a custom message if connected; a message for a server we cannot reach is dropped. */
  async sendCustomMessage(capability: string, type: string, data: Uint8Array): Promise<boolean> {
    return this.send({ customMessage: { capability, type, data } });
  }

  /** Re-announces the agent, e.g. after its custom capabilities changed. */
  async reportFullState(): Promise<boolean> {
    return this.send(this.fullState());
  }

  /** Says goodbye to the server (AgentDisconnect) and stops reconnecting. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasConnected = this.state === 'connected';
    this.state = 'stopped';
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    if (wasConnected) {
      const sent = this.send({ agentDisconnect: {} }, true);
      const timeout = new Promise<boolean>((resolve) =>
        setTimeout(() => resolve(false), DISCONNECT_TIMEOUT_MS).unref(),
      );
      await Promise.race([sent, timeout]);
    }
    this.connection?.close();
    this.connection = undefined;
  }

  private connect(): void {
    this.state = 'connecting';
    this.connection = this.options.transport.connect({
      onOpen: () => this.opened(),
      onMessage: (frame) => this.received(frame),
      onClose: (close) => this.closed(close),
    });
  }

  private opened(): void {
    if (this.state === 'stopped') return;
    this.state = 'connected';
    this.connections++;
    this.options.log.info('connected to the control plane');
    void this.reportFullState();
    this.scheduleHeartbeats();
    for (const listener of this.connectListeners) listener();
  }

  private closed(close: TransportClose): void {
    clearInterval(this.heartbeatTimer);
    this.connection = undefined;
    if (this.state === 'stopped') return;
    const retryAfterMs = close.retryAfterMs ?? this.retryAfterMs;
    this.retryAfterMs = undefined;
    // A server stopping on purpose is no sign of trouble: start the backoff over, after a jitter.
    const restarting = isServiceRestart(close.code) && retryAfterMs === undefined;
    if (restarting) this.attempt = 0;
    const delay = restarting
      ? serviceRestartDelay(this.options.random)
      : reconnectDelay(
          this.attempt,
          retryAfterMs,
          this.options.random,
          this.options.backoff ?? DEFAULT_BACKOFF,
        );
    this.attempt++;
    this.state = 'waiting';
    this.options.log.warn('control plane connection ended; reconnecting', {
      reason: close.reason,
      ...(close.code === undefined ? {} : { closeCode: close.code }),
      ...(close.httpStatus === undefined ? {} : { httpStatus: close.httpStatus }),
      delayMs: delay,
    });
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private received(frame: Uint8Array): void {
    let message: ServerToAgent;
    try {
      message = websocketFrames.decodeServerToAgent(frame);
    } catch (error) {
      this.options.log.warn('ignoring an undecodable ServerToAgent frame', { err: error });
      return;
    }
    if (message.instanceUid.length > 0 && !sameBytes(message.instanceUid, this.uid)) {
      this.options.log.warn('ignoring a ServerToAgent for another instance', {
        instanceUid: safeUid(message.instanceUid),
      });
      return;
    }
    if (message.errorResponse) {
      this.serverError(message);
      return;
    }
    // A message that decodes and is meant for us shows the connection works: reset the backoff.
    this.attempt = 0;
    const interval = message.connectionSettings?.opamp?.heartbeatIntervalSeconds;
    if (interval !== undefined && Number(interval) !== this.heartbeatSeconds) {
      this.heartbeatSeconds = Number(interval);
      this.scheduleHeartbeats();
    }
    if ((message.flags & BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState)) !== 0n)
      void this.reportFullState();
    if (message.customMessage) this.options.onCustomMessage(message.customMessage);
  }

  private serverError(message: ServerToAgent): void {
    const error = message.errorResponse;
    if (!error) return;
    const details = error.Details;
    this.options.log.warn('control plane reported an error', {
      type: ServerErrorResponseType[error.type],
      message: error.errorMessage,
    });
    if (error.type === ServerErrorResponseType.ServerErrorResponseType_Unavailable) {
      if (details.case === 'retryInfo') {
        this.retryAfterMs = Number(details.value.retryAfterNanoseconds / 1_000_000n);
      }
      this.connection?.close();
    }
  }

  /** Heartbeat interval 0 means the server wants none. */
  private scheduleHeartbeats(): void {
    clearInterval(this.heartbeatTimer);
    if (this.state !== 'connected' || this.heartbeatSeconds <= 0) return;
    this.heartbeatTimer = setInterval(() => void this.send({}), this.heartbeatSeconds * 1000);
  }

  private fullState(): AgentToServerInit {
    const identifying: Record<string, string> = {};
    const descriptive: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.options.attributes)) {
      (IDENTIFYING_ATTRIBUTES.has(key) ? identifying : descriptive)[key] = value;
    }
    Object.assign(descriptive, this.options.dynamicAttributes?.());
    return {
      agentDescription: {
        identifyingAttributes: recordToKeyValues(identifying),
        nonIdentifyingAttributes: recordToKeyValues(descriptive),
      },
      customCapabilities: { capabilities: this.options.customCapabilities() },
    };
  }

  private async send(fields: AgentToServerInit, evenIfStopping = false): Promise<boolean> {
    const connection = this.connection;
    if (!connection || (this.state !== 'connected' && !evenIfStopping)) return false;
    const message = create(AgentToServerSchema, {
      ...fields,
      instanceUid: this.uid,
      sequenceNum: ++this.sequenceNum,
      capabilities: AGENT_CAPABILITIES,
    });
    try {
      await connection.send(websocketFrames.encodeAgentToServer(message));
      return true;
    } catch (error) {
      this.options.log.warn('could not send to the control plane', { err: error });
      return false;
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function safeUid(uid: Uint8Array): string {
  try {
    return instanceUidToString(uid);
  } catch {
    return `<${uid.length} bytes>`;
  }
}
