/**
 * A minimal protobuf wire-format writer and reader: varints, fixed 32/64-bit values and
 * length-delimited fields — just what ONNX's messages need.
 *
 * @module
 */

import { withCode } from "../errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Protobuf wire types.
 *
 * @example
 * ```ts
 * import { WIRE } from "./protobuf.ts";
 * console.log(WIRE.LEN); // 2
 * ```
 */
export const WIRE = { VARINT: 0, FIXED64: 1, LEN: 2, FIXED32: 5 } as const;

/**
 * Appends protobuf fields to a growable buffer.
 *
 * @example
 * ```ts
 * import { ProtoWriter } from "./protobuf.ts";
 * const w = new ProtoWriter();
 * w.int64(1, 8).string(2, "dramatis");
 * console.log(w.finish().length); // 12
 * ```
 */
export class ProtoWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** Writes a raw unsigned varint (no tag). Accepts numbers up to 2^53 or any int64 bigint. */
  varint(value: number | bigint): this {
    if (typeof value === "number" && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      this.#reserve(10);
      let v = value;
      while (v >= 0x80) {
        this.#buf[this.#len++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.#buf[this.#len++] = v;
      return this;
    }
    // Negative int64 values are sent as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, BigInt(value));
    this.#reserve(10);
    while (v >= 0x80n) {
      this.#buf[this.#len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#len++] = Number(v);
    return this;
  }

  #tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** An int32/int64/enum field (varint). */
  int64(field: number, value: number | bigint): this {
    this.#tag(field, WIRE.VARINT);
    return this.varint(value);
  }

  /** A float (fixed32) field. */
  float(field: number, value: number): this {
    this.#tag(field, WIRE.FIXED32);
    this.#reserve(4);
    new DataView(this.#buf.buffer, this.#len, 4).setFloat32(0, value, true);
    this.#len += 4;
    return this;
  }

  /** A bytes field. */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WIRE.LEN);
    this.varint(value.length);
    this.#reserve(value.length);
    this.#buf.set(value, this.#len);
    this.#len += value.length;
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** An embedded message field. */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const sub = new ProtoWriter();
    write(sub);
    return this.bytes(field, sub.finish());
  }

  /** A packed repeated varint field. */
  packedInt64(field: number, values: ArrayLike<number | bigint>): this {
    const sub = new ProtoWriter();
    for (let i = 0; i < values.length; i++) sub.varint(values[i]);
    return this.bytes(field, sub.finish());
  }

  /** A packed repeated float field. */
  packedFloat(field: number, values: ArrayLike<number>): this {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    return this.bytes(field, bytes);
  }

  /** The bytes written (a view, valid until the next write). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

/** One decoded field: its number, wire type and raw value. */
export interface ProtoField {
  field: number;
  wire: number;
  /** Varint value (as bigint to keep int64 exact). */
  int?: bigint;
  /** Length-delimited bytes, fixed32/fixed64 bytes. */
  bytes?: Uint8Array;
}

function malformed(message: string): SyntaxError {
  return withCode(new SyntaxError(`malformed protobuf: ${message}`), "E_GRAPH");
}

/**
 * Iterates over the fields of one protobuf message.
 *
 * @example
 * ```ts
 * import { ProtoWriter, readFields } from "./protobuf.ts";
 * const bytes = new ProtoWriter().int64(1, 8).finish();
 * for (const f of readFields(bytes)) console.log(f.field, f.int); // 1 8n
 * ```
 */
export function* readFields(bytes: Uint8Array): Generator<ProtoField> {
  let pos = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw malformed(`varint runs past the end at byte ${pos}`);
      const b = bytes[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
      if (shift > 63n) throw malformed(`varint longer than 10 bytes at byte ${pos}`);
    }
  };
  while (pos < bytes.length) {
    const key = Number(readVarint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === WIRE.VARINT) {
      yield { field, wire, int: readVarint() };
    } else if (wire === WIRE.LEN) {
      const n = Number(readVarint());
      if (pos + n > bytes.length) throw malformed(`field ${field} of ${n} bytes runs past the end`);
      yield { field, wire, bytes: bytes.subarray(pos, pos + n) };
      pos += n;
    } else if (wire === WIRE.FIXED32 || wire === WIRE.FIXED64) {
      const n = wire === WIRE.FIXED32 ? 4 : 8;
      if (pos + n > bytes.length) throw malformed(`fixed field ${field} runs past the end`);
      yield { field, wire, bytes: bytes.subarray(pos, pos + n) };
      pos += n;
    } else {
      throw malformed(`unsupported wire type ${wire} for field ${field} at byte ${pos}`);
    }
  }
}

/**
 * Decodes a UTF-8 string field.
 *
 * @example
 * ```ts
 * import { fieldString, ProtoWriter, readFields } from "./protobuf.ts";
 * const [f] = readFields(new ProtoWriter().string(1, "hi").finish());
 * console.log(fieldString(f)); // "hi"
 * ```
 */
export function fieldString(f: ProtoField): string {
  return decoder.decode(f.bytes);
}

/**
 * Signed int64 value of a varint field (two's complement).
 *
 * @example
 * ```ts
 * import { fieldInt, ProtoWriter, readFields } from "./protobuf.ts";
 * const [f] = readFields(new ProtoWriter().int64(1, -1).finish());
 * console.log(fieldInt(f)); // -1
 * ```
 */
export function fieldInt(f: ProtoField): number {
  return Number(BigInt.asIntN(64, f.int ?? 0n));
}

/**
 * Values of a repeated int64 field, packed or not.
 *
 * @example
 * ```ts
 * import { fieldInts, ProtoWriter, readFields } from "./protobuf.ts";
 * const [f] = readFields(new ProtoWriter().packedInt64(1, [2, 3]).finish());
 * console.log(fieldInts(f)); // [2, 3]
 * ```
 */
export function fieldInts(f: ProtoField): number[] {
  if (f.wire === WIRE.VARINT) return [fieldInt(f)];
  const out: number[] = [];
  for (const x of readPackedVarints(f.bytes!)) out.push(Number(BigInt.asIntN(64, x)));
  return out;
}

function* readPackedVarints(bytes: Uint8Array): Generator<bigint> {
  let pos = 0;
  while (pos < bytes.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
    }
    yield result;
  }
}

/**
 * Value of a float (fixed32) field.
 *
 * @example
 * ```ts
 * import { fieldFloat, ProtoWriter, readFields } from "./protobuf.ts";
 * const [f] = readFields(new ProtoWriter().float(2, 0.5).finish());
 * console.log(fieldFloat(f)); // 0.5
 * ```
 */
export function fieldFloat(f: ProtoField): number {
  const b = f.bytes!;
  return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
}

/**
 * Values of a repeated float field, packed or not.
 *
 * @example
 * ```ts
 * import { fieldFloats, ProtoWriter, readFields } from "./protobuf.ts";
 * const [f] = readFields(new ProtoWriter().packedFloat(7, [1, 2]).finish());
 * console.log(fieldFloats(f)); // [1, 2]
 * ```
 */
export function fieldFloats(f: ProtoField): number[] {
  const b = f.bytes!;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.byteLength; i += 4) out.push(view.getFloat32(i, true));
  return out;
}
