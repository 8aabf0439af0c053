/**
 * What the OpAMP client needs from a transport: open a connection, send frames, hear frames and
 * the end of the connection. The client holds the protocol logic; framing stays in protocol/.
 */
export interface TransportClose {
  /** Whether the connection had been established before it ended. */
  wasOpen: boolean;
  reason: string;
  /** The WebSocket close code, when the connection had opened and a close frame (or 1006) came. */
  code?: number;
  /** HTTP status when the server refused the upgrade (401, 503, ...). */
  httpStatus?: number;
  /** From a refused upgrade's Retry-After header. */
  retryAfterMs?: number;
}

export interface TransportHandlers {
  onOpen(): void;
  onMessage(frame: Uint8Array): void;
  /** Called exactly once per connection, whether it opened or not. */
  onClose(close: TransportClose): void;
}

export interface TransportConnection {
  send(frame: Uint8Array): Promise<void>;
  close(): void;
}

export interface OpampTransport {
  connect(handlers: TransportHandlers): TransportConnection;
}
