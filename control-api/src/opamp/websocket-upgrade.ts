import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TrustedProxies } from '../infra/client-ip.js';
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
  trustedProxies: TrustedProxies;
}): UpgradeListener {
  return (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    // A stopping instance takes no new agent (see WebSocketTransport.closing).
    if (deps.transport.closing) {
      socket.destroy();
      return;
    }
    const upgrade = async () => {
      const decision = await deps.gate.onConnecting(
        connectionRequestOf(request, 'websocket', deps.trustedProxies),
      );
      if (!decision.accepted) {
        abortHandshake(socket, decision.refusal);
        return;
      }
      const { lease } = decision;
      // The place under the caps is held as long as the socket is, whether the handshake
      // completes or not (the client may also have gone while its token was checked).
      if (socket.destroyed) {
        lease?.release();
        return;
      }
      if (lease) socket.once('close', () => lease.release());
      deps.transport.accept(request, socket, head, decision.token, () => lease?.established());
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
