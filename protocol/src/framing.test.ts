import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, FramingError } from './framing.js';

describe('OpAMP WebSocket framing', () => {
  it('prefixes the message with the varint header 0 and strips it again', () => {
    const frame = encodeFrame(new Uint8Array([0x0a, 0x02, 0x01, 0x02]));
    expect([...frame]).toEqual([0x00, 0x0a, 0x02, 0x01, 0x02]);
    expect([...decodeFrame(frame)]).toEqual([0x0a, 0x02, 0x01, 0x02]);
  });

  it('rejects an unknown header instead of misparsing it', () => {
    expect(() => decodeFrame(new Uint8Array([0x01, 0x0a]))).toThrow(FramingError);
  });

  it('rejects a frame that ends inside its header', () => {
    expect(() => decodeFrame(new Uint8Array([]))).toThrow(/varint/);
    expect(() => decodeFrame(new Uint8Array([0x80]))).toThrow(/varint/);
  });
});
