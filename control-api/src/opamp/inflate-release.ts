import type { Inflate } from 'node:zlib';
import type { WebSocket } from 'ws';

/** What `releaseInflater` touches of ws's permessage-deflate extension (ws 8, lib/permessage-deflate.js). */
interface DeflateExtension {
  _inflate: Inflate | null;
}

const EXTENSION_NAME = 'permessage-deflate';

/**
 * Closes the zlib inflate stream ws keeps for a connection between messages.
 *
 * ws makes it on the first compressed message and then only resets it, even with no context
 * takeover, so every agent that ever sent a process list would keep one: its 16 KB output buffer
 * and zlib's state, about 20 KB of V8 external memory each, 200 MB for 10,000 agents
 * (bench/fleet-scale --every-agent). With no context takeover nothing is carried from one
 * message to the next, so closing it loses nothing; ws makes a new one for the next compressed
 * message (in practice one per command result or window snapshot).
 *
 * Call it from the socket's 'message' listener: ws emits a message only once its decompression
 * has finished and reads no further frame until the listeners return, so the stream is idle then.
 * Returns false (and changes nothing) when the extension is not negotiated or the stream is not
 * there, e.g. after an uncompressed message.
 */
export function releaseInflater(ws: WebSocket): boolean {
  const extensions = (ws as unknown as { _extensions?: Record<string, unknown> })._extensions;
  const extension = extensions?.[EXTENSION_NAME] as DeflateExtension | undefined;
  const inflate = extension?._inflate;
  if (!extension || !inflate) return false;
  inflate.close();
  extension._inflate = null;
  return true;
}
