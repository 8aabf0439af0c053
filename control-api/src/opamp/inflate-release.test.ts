import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { releaseInflater } from './inflate-release.js';
import { OPAMP_PER_MESSAGE_DEFLATE } from './websocket-transport.js';

/** The agent's offer (collector-agent AGENT_PER_MESSAGE_DEFLATE): 1 KB windows, no takeover. */
const AGENT_OFFER = {
  clientMaxWindowBits: 10,
  serverMaxWindowBits: 10,
  clientNoContextTakeover: true,
  threshold: 1024,
};

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
  client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: AGENT_OFFER });
  await once(client, 'open');
  return { serverSide: await accepted, received };
}

const large = (i: number) =>
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

async function until(condition: () => boolean) {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('releaseInflater', () => {
  it('closes the stream after each compressed message, and the next ones still decode', async () => {
    const { serverSide, received } = await connectedPair();
    expect(serverSide.extensions).toContain('permessage-deflate');
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      // Large (compressed) and small (sent as they are) messages interleaved.
      const text = i % 3 === 2 ? `heartbeat ${i}` : large(i);
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
    const whole = large(1) + large(2) + large(3);
    const third = Math.ceil(whole.length / 3);
    await sendAndWait(client!, whole.slice(0, third), { fin: false });
    await sendAndWait(client!, whole.slice(third, 2 * third), { fin: false });
    await sendAndWait(client!, whole.slice(2 * third), { fin: true });
    await sendAndWait(client!, large(4));
    await until(() => received.length === 2);
    expect(received).toEqual([
      { text: whole, released: true },
      { text: large(4), released: true },
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
    client.send(large(1));
    await message;
    expect(releaseInflater(serverSide)).toBe(false);
  });
});
