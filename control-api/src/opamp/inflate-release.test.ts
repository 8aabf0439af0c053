import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  AGENT_DEFLATE_OFFER,
  processList,
  sendAndWait,
  until,
} from '../test-support/deflate-pair.js';
import { releaseInflater } from './inflate-release.js';
import { OPAMP_PER_MESSAGE_DEFLATE } from './websocket-transport.js';

let server: WebSocketServer | undefined;
let client: WebSocket | undefined;
afterEach(async () => {
  client?.terminate();
  await new Promise((resolve) => server?.close(resolve));
});

/** A server socket that releases its inflater on every message, as AgentSession does. */
async function connectedPair() {
  server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate: OPAMP_PER_MESSAGE_DEFLATE,
  });
  await once(server, 'listening');
  const received: { text: string; released: boolean }[] = [];
  const accepted = new Promise<WebSocket>((resolve) => {
    server!.once('connection', (ws) => {
      ws.on('message', (data: Buffer) => {
        received.push({ text: data.toString('utf8'), released: releaseInflater(ws) });
      });
      resolve(ws);
    });
  });
  const { port } = server.address() as AddressInfo;
  client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: AGENT_DEFLATE_OFFER });
  await once(client, 'open');
  return { serverSide: await accepted, received };
}

describe('releaseInflater', () => {
  it('closes the stream after each compressed message, and the next ones still decode', async () => {
    const { serverSide, received } = await connectedPair();
    expect(serverSide.extensions).toContain('permessage-deflate');
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      // Large (compressed) and small (sent as they are) messages interleaved.
      const text = i % 3 === 2 ? `heartbeat ${i}` : processList(i);
      sent.push(text);
      await sendAndWait(client!, text);
    }
    await until(() => received.length === sent.length);
    expect(received.map((r) => r.text)).toEqual(sent);
    // A stream existed (and was closed) exactly after the compressed messages.
    expect(received.map((r) => r.released)).toEqual(sent.map((text) => text.length >= 1024));
    expect(releaseInflater(serverSide)).toBe(false);
  });

  it('leaves a fragmented message whole: the stream is released only once it is complete', async () => {
    const { received } = await connectedPair();
    const whole = processList(1) + processList(2) + processList(3);
    const third = Math.ceil(whole.length / 3);
    await sendAndWait(client!, whole.slice(0, third), { fin: false });
    await sendAndWait(client!, whole.slice(third, 2 * third), { fin: false });
    await sendAndWait(client!, whole.slice(2 * third), { fin: true });
    await sendAndWait(client!, processList(4));
    await until(() => received.length === 2);
    expect(received).toEqual([
      { text: whole, released: true },
      { text: processList(4), released: true },
    ]);
  });

  it('does nothing on a connection without compression', async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await once(server, 'listening');
    const accepted = new Promise<WebSocket>((resolve) => server!.once('connection', resolve));
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await once(client, 'open');
    const serverSide = await accepted;
    const message = once(serverSide, 'message');
    client.send(processList(1));
    await message;
    expect(releaseInflater(serverSide)).toBe(false);
  });
});
