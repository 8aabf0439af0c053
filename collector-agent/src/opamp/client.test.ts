import {
  create,
  instanceUidFromString,
  keyValuesToRecord,
  ServerErrorResponseType,
  ServerToAgentFlags,
  ServerToAgentSchema,
  websocketFrames,
  type AgentToServer,
} from '@cybercorp/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../logger.js';
import { AGENT_CAPABILITIES, OpampClient } from './client.js';
import type { OpampTransport, TransportHandlers } from './transport.js';

const UID = '01932c5e-1111-7222-8333-444455556666';

/** A transport whose connections the test opens, feeds and closes by hand. */
class FakeTransport implements OpampTransport {
  connections: Array<{ handlers: TransportHandlers; sent: AgentToServer[]; closed: boolean }> = [];

  connect(handlers: TransportHandlers) {
    const connection = { handlers, sent: [] as AgentToServer[], closed: false };
    this.connections.push(connection);
    return {
      send: async (frame: Uint8Array) => {
        connection.sent.push(websocketFrames.decodeAgentToServer(frame));
      },
      close: () => {
        connection.closed = true;
      },
    };
  }

  get last() {
    const connection = this.connections.at(-1);
    if (!connection) throw new Error('no connection yet');
    return connection;
  }

  serverSends(fields: Parameters<typeof create<typeof ServerToAgentSchema>>[1]) {
    this.last.handlers.onMessage(
      websocketFrames.encodeServerToAgent(create(ServerToAgentSchema, fields)),
    );
  }
}

let transport: FakeTransport;
let received: string[];
let capabilities: string[];

function client() {
  return new OpampClient({
    transport,
    instanceUid: UID,
    attributes: {
      'service.name': 'cybercorp-agent',
      'service.instance.id': UID,
      'host.name': 'web-1',
    },
    customCapabilities: () => capabilities,
    onCustomMessage: (message) => received.push(`${message.capability}/${message.type}`),
    log: silentLogger,
    random: () => 0.5,
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  transport = new FakeTransport();
  received = [];
  capabilities = ['io.cybercorp.control.v1'];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('OpampClient', () => {
  it('announces description, capabilities and custom capabilities on connect', async () => {
    const opamp = client();
    opamp.start();
    transport.last.handlers.onOpen();
    await vi.advanceTimersByTimeAsync(0);
    const [hello] = transport.last.sent;
    expect(hello?.sequenceNum).toBe(1n);
    expect(hello?.capabilities).toBe(AGENT_CAPABILITIES);
    expect(hello?.customCapabilities?.capabilities).toEqual(['io.cybercorp.control.v1']);
    expect(keyValuesToRecord(hello?.agentDescription?.identifyingAttributes ?? [])).toEqual({
      'service.name': 'cybercorp-agent',
      'service.instance.id': UID,
    });
    expect(keyValuesToRecord(hello?.agentDescription?.nonIdentifyingAttributes ?? [])).toEqual({
      'host.name': 'web-1',
    });
    expect(hello?.instanceUid).toEqual(instanceUidFromString(UID));
  });

  it('sends heartbeats at the server interval with rising sequence numbers', async () => {
    const opamp = client();
    opamp.start();
    transport.last.handlers.onOpen();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(transport.last.sent).toHaveLength(2); // hello + one heartbeat at the 30 s default
    transport.serverSends({ connectionSettings: { opamp: { heartbeatIntervalSeconds: 5n } } });
    await vi.advanceTimersByTimeAsync(15_000);
    const sent = transport.last.sent;
    expect(sent).toHaveLength(5);
    expect(sent.map((m) => m.sequenceNum)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(sent[4]?.agentDescription).toBeUndefined();
  });

  it('re-sends its full state when the server asks for it, and hands over custom messages', async () => {
    const opamp = client();
    opamp.start();
    transport.last.handlers.onOpen();
    capabilities = ['io.cybercorp.control.v1', 'io.cybercorp.windows.v1'];
    transport.serverSends({
      flags: BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState),
      customMessage: {
        capability: 'io.cybercorp.control.v1',
        type: 'process.list',
        data: new Uint8Array([123, 125]),
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.last.sent[1]?.customCapabilities?.capabilities).toEqual([
      'io.cybercorp.control.v1',
      'io.cybercorp.windows.v1',
    ]);
    expect(received).toEqual(['io.cybercorp.control.v1/process.list']);
  });

  it('ignores messages addressed to another instance', async () => {
    const opamp = client();
    opamp.start();
    transport.last.handlers.onOpen();
    transport.serverSends({
      instanceUid: instanceUidFromString('01932c5e-1111-7222-8333-000000000000'),
      customMessage: {
        capability: 'io.cybercorp.control.v1',
        type: 'process.list',
        data: new Uint8Array(),
      },
    });
    transport.last.handlers.onMessage(new Uint8Array([7, 7, 7]));
    expect(received).toEqual([]);
  });

  it('reconnects with growing jittered backoff and resets it after a working connection', async () => {
    const opamp = client();
    opamp.start();
    transport.last.handlers.onClose({ wasOpen: false, reason: 'refused', httpStatus: 401 });
    await vi.advanceTimersByTimeAsync(249);
    expect(transport.connections).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // 0.5 × 500 ms
    expect(transport.connections).toHaveLength(2);
    transport.last.handlers.onClose({ wasOpen: false, reason: 'refused' });
    await vi.advanceTimersByTimeAsync(500); // 0.5 × 1000 ms
    expect(transport.connections).toHaveLength(3);
    transport.last.handlers.onOpen();
    transport.serverSends({});
    transport.last.handlers.onClose({ wasOpen: true, reason: 'server went away' });
    await vi.advanceTimersByTimeAsync(250);
    expect(transport.connections).toHaveLength(4);
    expect(opamp.connections).toBe(1);
  });

  it('comes back after a short jitter, not the grown backoff, when the server restarts (1012)', async () => {
    const opamp = client();
    opamp.start();
    // Five failed attempts: the next ordinary delay would be 0.5 × 16 s.
    for (let i = 0; i < 5; i++) {
      transport.last.handlers.onClose({ wasOpen: false, reason: 'refused' });
      await vi.advanceTimersByTimeAsync(30_000);
    }
    expect(transport.connections).toHaveLength(6);
    transport.last.handlers.onOpen();
    transport.last.handlers.onClose({ wasOpen: true, reason: 'restart', code: 1012 });
    await vi.advanceTimersByTimeAsync(499);
    expect(transport.connections).toHaveLength(6);
    await vi.advanceTimersByTimeAsync(1); // 0.5 × the 1 s restart jitter
    expect(transport.connections).toHaveLength(7);
    // The backoff started over: the next failure waits 0.5 × 1 s (attempt 1), not 0.5 × 30 s.
    transport.last.handlers.onClose({ wasOpen: false, reason: 'refused' });
    await vi.advanceTimersByTimeAsync(500);
    expect(transport.connections).toHaveLength(8);
    expect(opamp.connections).toBe(1);
  });

  it('keeps the backoff for an abnormal close (1006) of a connection that sent nothing', async () => {
    const opamp = client();
    opamp.start();
    transport.last.handlers.onClose({ wasOpen: false, reason: 'refused' });
    await vi.advanceTimersByTimeAsync(250);
    transport.last.handlers.onOpen();
    transport.last.handlers.onClose({ wasOpen: true, reason: 'dropped', code: 1006 });
    await vi.advanceTimersByTimeAsync(499);
    expect(transport.connections).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1); // 0.5 × 1000 ms (attempt 1)
    expect(transport.connections).toHaveLength(3);
  });

  it('waits as long as the server asks via RetryInfo or Retry-After', async () => {
    const opamp = client();
    opamp.start();
    transport.last.handlers.onOpen();
    transport.serverSends({
      errorResponse: {
        type: ServerErrorResponseType.ServerErrorResponseType_Unavailable,
        errorMessage: 'busy',
        Details: { case: 'retryInfo', value: { retryAfterNanoseconds: 7_000_000_000n } },
      },
    });
    expect(transport.last.closed).toBe(true);
    transport.last.handlers.onClose({ wasOpen: true, reason: 'closed' });
    await vi.advanceTimersByTimeAsync(6_999);
    expect(transport.connections).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(transport.connections).toHaveLength(2);
    transport.last.handlers.onClose({
      wasOpen: false,
      reason: '503',
      httpStatus: 503,
      retryAfterMs: 12_000,
    });
    await vi.advanceTimersByTimeAsync(11_999);
    expect(transport.connections).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(transport.connections).toHaveLength(3);
  });

  it('says AgentDisconnect on stop and then stays down', async () => {
    const opamp = client();
    opamp.start();
    transport.last.handlers.onOpen();
    await opamp.stop();
    const last = transport.last.sent.at(-1);
    expect(last?.agentDisconnect).toBeDefined();
    expect(transport.last.closed).toBe(true);
    transport.last.handlers.onClose({ wasOpen: true, reason: 'bye' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(transport.connections).toHaveLength(1);
    expect(await opamp.sendCustomMessage('x', 'y', new Uint8Array())).toBe(false);
  });
});
