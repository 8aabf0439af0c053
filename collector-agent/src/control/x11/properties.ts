/**
 * Decoding of X property values (the raw bytes of a GetProperty reply) and window-id
 * formatting. Pure functions, tested on literal byte buffers.
 */

/** 0 LSBFirst, 1 MSBFirst: the byte order the connection negotiated. */
export type ByteOrder = 0 | 1;

/** Unsigned 32-bit items of a format-32 property (CARDINAL, WINDOW, ATOM). */
export function decodeCard32List(format: number, data: Buffer, byteOrder: ByteOrder): number[] {
  if (format !== 32) return [];
  const out: number[] = [];
  for (let offset = 0; offset + 4 <= data.length; offset += 4) {
    out.push(byteOrder === 1 ? data.readUInt32BE(offset) : data.readUInt32LE(offset));
  }
  return out;
}

/** The first item of a format-32 property, or null when it has none or is 0 (None). */
export function decodeCard32(format: number, data: Buffer, byteOrder: ByteOrder): number | null {
  const first = decodeCard32List(format, data, byteOrder)[0];
  return first === undefined || first === 0 ? null : first;
}

/**
 * Text of a format-8 property. UTF8_STRING is UTF-8; STRING (ICCCM) is Latin-1; COMPOUND_TEXT
 * is read as Latin-1, which is right for its ASCII subset. A trailing NUL is dropped.
 */
export function decodeText(format: number, data: Buffer, encoding: 'utf8' | 'latin1'): string {
  if (format !== 8) return '';
  let end = data.length;
  const nul = data.indexOf(0);
  if (nul !== -1) end = nul;
  return data.subarray(0, end).toString(encoding);
}

/** X window ids travel as lower-case hex, the way xprop and wmctrl print them. */
export function formatWindowId(window: number): string {
  return `0x${(window >>> 0).toString(16)}`;
}

/** The numeric id of `0x1a00003`-style strings (decimal is accepted too); null if malformed. */
export function parseWindowId(id: string): number | null {
  const match = /^(?:0x([0-9a-fA-F]{1,8})|([0-9]{1,10}))$/.exec(id);
  if (!match) return null;
  const value = match[1] !== undefined ? Number.parseInt(match[1], 16) : Number(match[2]);
  if (!Number.isSafeInteger(value) || value <= 0 || value > 0xffffffff) return null;
  return value;
}
