/**
 * OpAMP WebSocket framing: every binary frame is a varint header followed by one protobuf
 * message. The only header defined by the specification is 0; anything else is rejected so that
 * a future framing change is noticed instead of misparsed.
 */

export const OPAMP_FRAME_HEADER = 0;

export class FramingError extends Error {
  readonly code = 'bad_frame';
}

export function encodeFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(message.length + 1);
  frame[0] = OPAMP_FRAME_HEADER; // varint 0 is a single zero byte
  frame.set(message, 1);
  return frame;
}

export function decodeFrame(frame: Uint8Array): Uint8Array {
  let header = 0;
  let shift = 0;
  let offset = 0;
  for (;;) {
    if (offset >= frame.length) throw new FramingError('frame ends inside its varint header');
    const byte = frame[offset++] as number;
    header |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new FramingError('varint header longer than 4 bytes');
  }
  if (header !== OPAMP_FRAME_HEADER) throw new FramingError(`unsupported frame header ${header}`);
  return frame.subarray(offset);
}
