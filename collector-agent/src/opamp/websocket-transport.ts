import type { ConnectionOptions as ClientTlsOptions } from 'node:tls';
import WebSocket from 'ws';
import type { Logger } from '../logger.js';
import { parseRetryAfter } from './backoff.js';
import { pinnedServerIdentity } from './spki-pins.js';
import { TlsRefusalLog } from './tls-refusal-log.js';
import type { OpampTransport, TransportConnection, TransportHandlers } from './transport.js';

export interface WebSocketTransportOptions {
  url: string;
  /** Sent as `Authorization: Bearer <token>` on the upgrade request. */
  token?: string | undefined;
  handshakeTimeoutMs?: number;
  maxPayloadBytes?: number;
  /** false turns compression off (e.g. to compare with it on). */
  perMessageDeflate?: WebSocket.PerMessageDeflateOptions | false;
  /** For wss:// URLs: the trust anchors and pins the server's certificate is checked against. */
  tls?: ControlTls | undefined;
  /** Where refused server certificates are reported (throttled). */
  log?: Logger | undefined;
  /** Source address to connect from (a host with several; load tests spread over 127.0.0.x). */
  localAddress?: string | undefined;
}

export interface ControlTls {
  /** PEM CA bundle that replaces the system store; undefined: the system store. */
  ca?: string | Buffer | undefined;
  /** RFC 7469 SPKI SHA-256 pins; when set, the chain must carry one of them. */
  pins?: readonly string[] | undefined;
}

/**
 * permessage-deflate as the control API offers it: process and window lists shrink several
 * times, heartbeats (under the 1 KB threshold) go out as they are. A 1 KB window each way and a
 * small memLevel keep zlib's memory small on both ends (the server inflates with our window).
 */
export const AGENT_PER_MESSAGE_DEFLATE: WebSocket.PerMessageDeflateOptions = {
  clientMaxWindowBits: 10,
  serverMaxWindowBits: 10,
  clientNoContextTakeover: true,
  zlibDeflateOptions: { memLevel: 5, level: 3 },
  concurrencyLimit: 2,
  threshold: 1024,
};

/** OpAMP over WebSocket with explicit limits. */
export class WebSocketTransport implements OpampTransport {
  private readonly tlsRefusals: TlsRefusalLog | undefined;

  constructor(private readonly options: WebSocketTransportOptions) {
    this.tlsRefusals = options.log ? new TlsRefusalLog(options.log) : undefined;
  }

  connect(handlers: TransportHandlers): TransportConnection {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;
    const socket = new WebSocket(this.options.url, {
      headers,
      handshakeTimeout: this.options.handshakeTimeoutMs ?? 10_000,
      maxPayload: this.options.maxPayloadBytes ?? 16 * 1024 * 1024,
      perMessageDeflate: this.options.perMessageDeflate ?? AGENT_PER_MESSAGE_DEFLATE,
      ...this.tlsOptions(),
      ...(this.options.localAddress === undefined
        ? {}
        : { localAddress: this.options.localAddress }),
    });
    let opened = false;
    let ended = false;
    let lastError: string | undefined;
    const end = (close: Parameters<TransportHandlers['onClose']>[0]) => {
      if (ended) return;
      ended = true;
      handlers.onClose(close);
    };

    socket.on('open', () => {
      opened = true;
      handlers.onOpen();
    });
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!isBinary) return; // OpAMP frames are binary; text frames are not ours to parse
      handlers.onMessage(toBytes(data));
    });
    socket.on('unexpected-response', (request, response) => {
      const retryAfter = parseRetryAfter(headerValue(response.headers['retry-after']));
      end({
        wasOpen: false,
        reason: `server refused the upgrade with HTTP ${response.statusCode}`,
        ...(response.statusCode === undefined ? {} : { httpStatus: response.statusCode }),
        ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
      });
      response.resume();
      request.destroy();
    });
    socket.on('error', (error) => {
      lastError = error.message;
      if (!opened) this.tlsRefusals?.report(this.options.url, error);
    });
    socket.on('close', (code, reason) => {
      end({
        wasOpen: opened,
        reason: lastError ?? `closed with code ${code} ${reason.toString()}`.trim(),
        ...(opened ? { code } : {}),
      });
    });

    return {
      send: (frame) =>
        new Promise<void>((resolve, reject) => {
          if (socket.readyState !== WebSocket.OPEN) {
            reject(new Error('OpAMP connection is not open'));
            return;
          }
          socket.send(frame, { binary: true }, (error) => (error ? reject(error) : resolve()));
        }),
      close: () => {
        if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'agent shutting down');
        else socket.terminate();
      },
    };
  }

  /**
   * Verification is always on for wss://, whatever NODE_TLS_REJECT_UNAUTHORIZED says: a refused
   * certificate ends the attempt, and the backoff retries the same URL, never plain ws://.
   */
  private tlsOptions(): Pick<
    ClientTlsOptions,
    'ca' | 'rejectUnauthorized' | 'checkServerIdentity'
  > {
    const tls = this.options.tls;
    return {
      rejectUnauthorized: true,
      ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
      checkServerIdentity: pinnedServerIdentity(tls?.pins),
    };
  }
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
