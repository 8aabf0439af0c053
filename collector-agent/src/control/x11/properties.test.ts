import { describe, expect, it } from 'vitest';
import {
  decodeCard32,
  decodeCard32List,
  decodeText,
  formatWindowId,
  parseWindowId,
} from './properties.js';

describe('decodeCard32List', () => {
  it('reads little-endian 32-bit items of a WINDOW list', () => {
    const data = Buffer.from([0x03, 0x00, 0xa0, 0x01, 0x0c, 0x00, 0x40, 0x00]);
    expect(decodeCard32List(32, data, 0)).toEqual([0x1a00003, 0x40000c]);
  });

  it('reads big-endian items when the connection is MSBFirst', () => {
    const data = Buffer.from([0x01, 0xa0, 0x00, 0x03]);
    expect(decodeCard32List(32, data, 1)).toEqual([0x1a00003]);
  });

  it('ignores a trailing partial item and non-32-bit formats', () => {
    expect(decodeCard32List(32, Buffer.from([1, 0, 0, 0, 9, 9]), 0)).toEqual([1]);
    expect(decodeCard32List(8, Buffer.from([1, 0, 0, 0]), 0)).toEqual([]);
  });
});

describe('decodeCard32', () => {
  it('gives the first item (a _NET_WM_PID)', () => {
    expect(decodeCard32(32, Buffer.from([0x39, 0x30, 0x00, 0x00]), 0)).toBe(12345);
  });

  it('gives null for None (0) and for an empty value', () => {
    expect(decodeCard32(32, Buffer.from([0, 0, 0, 0]), 0)).toBeNull();
    expect(decodeCard32(32, Buffer.alloc(0), 0)).toBeNull();
  });
});

describe('decodeText', () => {
  it('decodes a UTF8_STRING _NET_WM_NAME', () => {
    const bytes = Buffer.from([
      0x72, 0xc3, 0xa9, 0x73, 0x75, 0x6d, 0xc3, 0xa9, 0x20, 0xe2, 0x9c, 0x93,
    ]);
    expect(decodeText(8, bytes, 'utf8')).toBe('résumé ✓');
  });

  it('decodes a Latin-1 STRING WM_NAME', () => {
    expect(decodeText(8, Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'latin1')).toBe('café');
  });

  it('stops at a NUL terminator', () => {
    expect(decodeText(8, Buffer.from([0x61, 0x62, 0x00, 0x63]), 'utf8')).toBe('ab');
  });

  it('gives an empty title for a value that is not format 8', () => {
    expect(decodeText(32, Buffer.from([0x61, 0, 0, 0]), 'utf8')).toBe('');
  });
});

describe('window ids', () => {
  it('formats as lower-case hex like xprop', () => {
    expect(formatWindowId(0x1a00003)).toBe('0x1a00003');
    expect(formatWindowId(0xffffffff)).toBe('0xffffffff');
  });

  it('parses hex and decimal ids and round-trips', () => {
    expect(parseWindowId('0x1A00003')).toBe(0x1a00003);
    expect(parseWindowId('27262979')).toBe(27262979);
    expect(parseWindowId(formatWindowId(0x40000c))).toBe(0x40000c);
  });

  it('rejects malformed, zero and out-of-range ids', () => {
    for (const bad of [
      '',
      '0x',
      'abc',
      '0x0',
      '0',
      '0x123456789',
      '4294967296',
      '-1',
      '0x1a 3',
      '1e3',
    ]) {
      expect(parseWindowId(bad), bad).toBeNull();
    }
  });
});
