import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { WebSocketTransport } from './websocket-transport.js';

let server: WebSocketServer | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

/** A loopback server that reports each upgrade's source address and token. */
async function listen() {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const upgrades: { address: string | undefined; authorization: string | undefined }[] = [];
  server.on('connection', (ws, request) => {
    upgrades.push({
      address: request.socket.remoteAddress,
      authorization: request.headers.authorization,
    });
    ws.close();
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, upgrades };
}

function connectOnce(transport: WebSocketTransport): Promise<void> {
  return new Promise((resolve) => {
    transport.connect({
      onOpen: () => undefined,
      onMessage: () => undefined,
      onClose: () => resolve(),
    });
  });
}

describe('WebSocketTransport', () => {
  it('connects from the source address it is given, with the agent token', async () => {
    const { url, upgrades } = await listen();
    await connectOnce(new WebSocketTransport({ url, token: 'cca_x', localAddress: '127.0.0.7' }));
    await connectOnce(new WebSocketTransport({ url, token: 'cca_x' }));
    expect(upgrades).toEqual([
      { address: '127.0.0.7', authorization: 'Bearer cca_x' },
      { address: '127.0.0.1', authorization: 'Bearer cca_x' },
    ]);
  });
});
