import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { INLINE_INFLATE_MAX_BYTES, inflateInline } from './inline-inflate.js';
import { OPAMP_PER_MESSAGE_DEFLATE } from './websocket-transport.js';

/** The agent's offer (collector-agent AGENT_PER_MESSAGE_DEFLATE): 1 KB windows, no takeover. */
const AGENT_DEFLATE_OFFER = {
  clientMaxWindowBits: 10,
  serverMaxWindowBits: 10,
  clientNoContextTakeover: true,
  threshold: 1024,
};

/** A process list as an agent sends it (60 entries, several KB): compressed on the wire. */
const processList = (i: number) =>
  JSON.stringify(
    Array.from({ length: 60 }, (_, n) => ({
      pid: n + i,
      name: `process-${n}`,
      command: `/usr/bin/worker --id ${i}`,
    })),
  );

function sendAndWait(ws: WebSocket, data: string, options: { fin?: boolean } = {}) {
  return new Promise<void>((resolve, reject) =>
    ws.send(data, options, (error) => (error ? reject(error) : resolve())),
  );
}

/** Polls `condition` for up to 3 s: the server side hears of a message a little later. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}

let server: WebSocketServer | undefined;
let client: WebSocket | undefined;
afterEach(async () => {
  client?.terminate();
  await new Promise((resolve) => server?.close(resolve));
});

/** ws's permessage-deflate extension of a server socket, as inline-inflate.ts sees it. */
interface Extension {
  _inflate: unknown;
  decompress: (data: Buffer, fin: boolean, callback: unknown) => void;
}
const extensionOf = (ws: WebSocket) =>
  (ws as unknown as { _extensions: Record<string, Extension | undefined> })._extensions[
    'permessage-deflate'
  ];

/**
 * A server socket with inline inflation, as AgentSession has it. `streamed` counts the messages
 * ws's own zlib stream inflated; `kept` says, at each message, whether that stream was kept.
 */
async function connectedPair(
  options: { maxPayload?: number; offer?: object; serverDeflate?: object | false } = {},
) {
  server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate: options.serverDeflate ?? OPAMP_PER_MESSAGE_DEFLATE,
    maxPayload: options.maxPayload,
  });
  await once(server, 'listening');
  const received: string[] = [];
  const kept: boolean[] = [];
  let streamed = 0;
  let installed = false;
  const closed: { code?: number } = {};
  server.once('connection', (ws) => {
    const extension = extensionOf(ws);
    if (extension) {
      const original = extension.decompress.bind(extension);
      extension.decompress = (data, fin, callback) => {
        if (fin) streamed++;
        original(data, fin, callback);
      };
    }
    installed = inflateInline(ws);
    ws.on('message', (data: Buffer) => {
      received.push(data.toString('utf8'));
      kept.push(extension !== undefined && extension._inflate !== null);
    });
    ws.on('error', () => undefined);
  });
  const { port } = server.address() as AddressInfo;
  client = new WebSocket(`ws://127.0.0.1:${port}`, {
    perMessageDeflate: options.offer ?? AGENT_DEFLATE_OFFER,
  });
  client.on('close', (code) => (closed.code = code));
  await once(client, 'open');
  return { received, kept, streamed: () => streamed, installed: () => installed, closed };
}

describe('inflateInline', () => {
  it('inflates compressed messages in place, in order with uncompressed ones, keeping no stream', async () => {
    const pair = await connectedPair();
    expect(pair.installed()).toBe(true);
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const text = i % 3 === 2 ? `heartbeat ${i}` : processList(i);
      sent.push(text);
      await sendAndWait(client!, text);
    }
    await until(() => pair.received.length === sent.length);
    expect(pair.received).toEqual(sent);
    expect(pair.streamed()).toBe(0);
  });

  it('leaves a fragmented message, and a frame over the inline limit, to ws and its stream', async () => {
    const pair = await connectedPair();
    const whole = processList(1) + processList(2) + processList(3);
    const third = Math.ceil(whole.length / 3);
    await sendAndWait(client!, whole.slice(0, third), { fin: false });
    await sendAndWait(client!, whole.slice(third, 2 * third), { fin: false });
    await sendAndWait(client!, whole.slice(2 * third), { fin: true });
    // Random bytes do not compress: the compressed frame stays over the limit.
    const incompressible = Buffer.from(
      Array.from({ length: INLINE_INFLATE_MAX_BYTES + 1024 }, () =>
        Math.floor(Math.random() * 256),
      ),
    ).toString('base64');
    await sendAndWait(client!, incompressible);
    await sendAndWait(client!, processList(4));
    await until(() => pair.received.length === 3);
    expect(pair.received).toEqual([whole, incompressible, processList(4)]);
    expect(pair.streamed()).toBe(2);
    // Closed once each of those messages was whole: an idle agent keeps no zlib stream.
    expect(pair.kept).toEqual([false, false, false]);
  });

  it('closes with 1009 on a message that inflates past maxPayload, as ws does', async () => {
    const pair = await connectedPair({ maxPayload: 64 * 1024 });
    // A few KB on the wire, over a MB inflated.
    await sendAndWait(client!, 'x'.repeat(1024 * 1024));
    await until(() => pair.closed.code !== undefined);
    expect(pair.closed.code).toBe(1009);
    expect(pair.received).toEqual([]);
  });

  it('closes with 1007 on a compressed frame that is not deflate data', async () => {
    const pair = await connectedPair();
    // Marked compressed (RSV1), but its first block has the reserved block type 3.
    const socket = (client as unknown as { _socket: import('node:net').Socket })._socket;
    const payload = Buffer.from([0x07, 0x00]);
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
    socket.write(Buffer.concat([Buffer.from([0xc2, 0x80 | payload.length]), mask, masked]));
    await until(() => pair.closed.code !== undefined);
    expect(pair.closed.code).toBe(1007);
    expect(pair.received).toEqual([]);
  });

  it('is not installed where the agent may keep its compression context between messages', async () => {
    const pair = await connectedPair({
      serverDeflate: { ...OPAMP_PER_MESSAGE_DEFLATE, clientNoContextTakeover: false },
      offer: { serverMaxWindowBits: 10 },
    });
    expect(pair.installed()).toBe(false);
    await sendAndWait(client!, processList(5));
    await sendAndWait(client!, processList(6));
    await until(() => pair.received.length === 2);
    expect(pair.received).toEqual([processList(5), processList(6)]);
    // The agent may refer back to what it sent before: the stream stays.
    expect(pair.kept).toEqual([true, true]);
  });

  it('is not installed on a connection without compression', async () => {
    const pair = await connectedPair({ serverDeflate: false });
    expect(pair.installed()).toBe(false);
    await sendAndWait(client!, processList(7));
    await until(() => pair.received.length === 1);
    expect(pair.received).toEqual([processList(7)]);
  });
});
