import { constants, inflateRawSync, type Inflate } from 'node:zlib';
import type { WebSocket } from 'ws';

/** What this module touches of ws's permessage-deflate extension (ws 8, lib/permessage-deflate.js). */
interface DeflateExtension {
  params: Record<string, unknown>;
  _inflate: Inflate | null;
  _isServer: boolean;
  _maxPayload: number;
  decompress(
    data: Buffer,
    fin: boolean,
    callback: (error: Error | null, result?: Buffer) => void,
  ): void;
}

const EXTENSION_NAME = 'permessage-deflate';
/** The four bytes RFC 7692 §7.2.2 has the sender remove from the end of every message. */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/**
 * Compressed frames up to this size are inflated in place; a larger one (or a fragmented
 * message) takes ws's own stream. Inflating 64 KiB costs well under a millisecond here, and
 * its output is capped at maxPayload anyway.
 */
export const INLINE_INFLATE_MAX_BYTES = 64 * 1024;

/**
 * Makes the server side of `ws` inflate each small compressed message synchronously instead of
 * through ws's zlib stream.
 *
 * ws inflates through an asynchronous zlib stream: three thread-pool round trips per message
 * (the data, the trailer, the flush), each waiting again for the event loop. At 10,000 agents
 * the loop is busy with heartbeats, and those waits were most of a command's p99
 * (bench/fleet-scale: a result reached the socket a few ms after it was sent and the message
 * event 15–20 ms later). A message compressed without context takeover is a complete deflate
 * stream by itself, so one `inflateRawSync` answers it, and no zlib stream is kept between
 * messages either. A larger or fragmented message takes ws's stream, which is closed once the
 * message is whole. A connection whose agent may carry its context over (it did not agree to
 * client_no_context_takeover) keeps ws's stream as it is. Returns whether this was installed.
 */
export function inflateInline(ws: WebSocket): boolean {
  const extensions = (ws as unknown as { _extensions?: Record<string, unknown> })._extensions;
  const extension = extensions?.[EXTENSION_NAME] as DeflateExtension | undefined;
  if (!extension?._isServer || extension.params.client_no_context_takeover !== true) return false;
  const windowBits =
    typeof extension.params.client_max_window_bits === 'number'
      ? extension.params.client_max_window_bits
      : constants.Z_DEFAULT_WINDOWBITS;
  const streamed = extension.decompress.bind(extension);
  let inStreamedMessage = false;
  const onStream: DeflateExtension['decompress'] = (data, fin, callback) => {
    // A message that starts on ws's stream ends there; then the stream is closed.
    inStreamedMessage = !fin;
    streamed(
      data,
      fin,
      fin ? (error, result) => (closeStream(extension), callback(error, result)) : callback,
    );
  };
  extension.decompress = (data, fin, callback) => {
    if (inStreamedMessage || !fin || data.length > INLINE_INFLATE_MAX_BYTES) {
      onStream(data, fin, callback);
      return;
    }
    let result: Buffer;
    try {
      // The message ends in a sync flush, not a final block: read up to there.
      result = inflateRawSync(Buffer.concat([data, TRAILER]), {
        windowBits,
        finishFlush: constants.Z_SYNC_FLUSH,
        ...(extension._maxPayload > 0 ? { maxOutputLength: extension._maxPayload } : {}),
      });
    } catch {
      // Too large or not deflate: ws's own stream finds the same and fails the connection with
      // its own close code (1009, 1007). Only a bad frame, once per connection, is inflated twice.
      onStream(data, fin, callback);
      return;
    }
    // ws's receiver expects the answer later, as from zlib: it goes on reading frames then.
    process.nextTick(callback, null, result);
  };
  return true;
}

/**
 * ws makes its zlib stream on the first message it inflates and then only resets it, even with
 * no context takeover: about 20 KB of V8 external memory each, 200 MB for 10,000 agents
 * (bench/fleet-scale --every-agent). With no context takeover nothing is carried from one message
 * to the next, so closing it after each message loses nothing; ws makes a new one when needed.
 */
function closeStream(extension: DeflateExtension): void {
  extension._inflate?.close();
  extension._inflate = null;
}
