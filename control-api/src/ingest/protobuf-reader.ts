/** Protobuf wire types (https://protobuf.dev/programming-guides/encoding/). */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** A message the reader cannot make sense of; the ingest answers it 400 `malformed_otlp`. */
export class MalformedProtobufError extends Error {
  readonly code = 'malformed_otlp';
}

/**
 * A minimal reader of the protobuf wire format over one message's bytes: just what decoding
 * OTLP needs. Every read is bounds-checked, so truncated or hostile input throws
 * MalformedProtobufError instead of reading past the buffer.
 */
export class ProtobufReader {
  private position = 0;
  /** Made on the first fixed-width read: most messages (strings, nested ones) never need it. */
  private fixedView: DataView | undefined;

  constructor(private readonly bytes: Uint8Array) {}

  private get view(): DataView {
    const { bytes } = this;
    return (this.fixedView ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) throw new MalformedProtobufError('field number 0');
    return { field, wire: key % 8 };
  }

  /** A varint as a JS number: exact up to 2^53, which covers every count and enum OTLP sends. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.byteAt(this.position++);
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new MalformedProtobufError('varint longer than 10 bytes');
  }

  /** A varint holding a two's-complement int64 (AnyValue.int_value). */
  int64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.byteAt(this.position++);
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw new MalformedProtobufError('varint longer than 10 bytes');
  }

  fixed64(): bigint {
    const value = this.view.getBigUint64(this.advance(8), true);
    return value;
  }

  sfixed64(): bigint {
    return this.view.getBigInt64(this.advance(8), true);
  }

  double(): number {
    return this.view.getFloat64(this.advance(8), true);
  }

  /** A length-delimited field: an embedded message, a string, bytes or a packed array. */
  bytesField(): Uint8Array {
    const length = this.varint();
    const start = this.advance(length);
    return this.bytes.subarray(start, start + length);
  }

  string(): string {
    return textDecoder.decode(this.bytesField());
  }

  /** Skips a field this decoder does not use (unknown fields are allowed by protobuf). */
  skip(wire: number): void {
    switch (wire) {
      case WIRE.varint:
        this.varint();
        return;
      case WIRE.fixed64:
        this.advance(8);
        return;
      case WIRE.bytes:
        this.bytesField();
        return;
      case WIRE.fixed32:
        this.advance(4);
        return;
      default:
        throw new MalformedProtobufError(`unsupported wire type ${wire}`);
    }
  }

  /** Requires `wire` for a field this decoder reads, so a field of the wrong type is refused. */
  expect(actual: number, wanted: number, field: string): void {
    if (actual !== wanted) {
      throw new MalformedProtobufError(`${field}: wire type ${actual}, expected ${wanted}`);
    }
  }

  private advance(length: number): number {
    const start = this.position;
    if (length < 0 || start + length > this.bytes.length) {
      throw new MalformedProtobufError('message truncated');
    }
    this.position = start + length;
    return start;
  }

  private byteAt(index: number): number {
    const byte = this.bytes[index];
    if (byte === undefined) throw new MalformedProtobufError('message truncated');
    return byte;
  }
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Writes the few small messages the ingest answers with (partial success, rpc Status). */
export class ProtobufWriter {
  private readonly chunks: number[] = [];

  varintField(field: number, value: number): this {
    if (value === 0) return this;
    this.varint(field * 8 + WIRE.varint);
    this.varint(value);
    return this;
  }

  stringField(field: number, value: string): this {
    if (value === '') return this;
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  bytesField(field: number, value: Uint8Array): this {
    this.varint(field * 8 + WIRE.bytes);
    this.varint(value.length);
    for (const byte of value) this.chunks.push(byte);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }

  private varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.chunks.push((rest % 128) | 0x80);
      rest = Math.floor(rest / 128);
    }
    this.chunks.push(rest);
  }
}
