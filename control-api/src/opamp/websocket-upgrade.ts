import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../infra/logger.js';
import { PROBLEM_CONTENT_TYPE } from '../infra/problem.js';
import { connectionRequestOf, type ConnectionGate, type Refusal } from './connection-gate.js';
import type { WebSocketTransport } from './websocket-transport.js';

export type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The HTTP server's `upgrade` listener: the gate decides before the upgrade, so a refused client
 * gets a plain HTTP answer (401, 404, 503 …) and never a WebSocket.
 */
export function opampUpgradeListener(deps: {
  gate: ConnectionGate;
  transport: WebSocketTransport;
  logger: Logger;
}): UpgradeListener {
  return (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    const upgrade = async () => {
      const decision = await deps.gate.onConnecting(connectionRequestOf(request));
      if (decision.accepted) deps.transport.accept(request, socket, head, decision.token);
      else abortHandshake(socket, decision.refusal);
    };
    upgrade().catch((error: unknown) => {
      deps.logger.error('OpAMP upgrade failed', { err: error });
      socket.destroy();
    });
  };
}

/** Answers on the raw socket and closes it, as ws's own `abortHandshake` does. */
export function abortHandshake(socket: Duplex, refusal: Refusal): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(refusal.problem);
  const headers: Record<string, string> = {
    Connection: 'close',
    'Content-Type': PROBLEM_CONTENT_TYPE,
    'Content-Length': String(Buffer.byteLength(body)),
    ...refusal.headers,
  };
  const head = [
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
