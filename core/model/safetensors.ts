/**
 * Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON header
 * (`{name: {dtype, shape, data_offsets}}` plus an optional `__metadata__` string map), then the raw
 * little-endian tensor bytes. Reading is lazy: opening a file parses only the header, and each
 * tensor is read from disk when asked for. Sharded checkpoints (`model.safetensors.index.json`)
 * are presented as one file by {@link openSafetensorsDir}.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../errors.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import {
  bfloat16ToFloat32,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
} from "../onnx/float16.ts";

/** The safetensors dtypes Dramatis understands. */
export type SafetensorsDtype =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U8"
  | "U16"
  | "U32"
  | "U64"
  | "BOOL";

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  U16: 2,
  U32: 4,
  U64: 8,
  BOOL: 1,
};

/** Bytes per element of a dtype. */
export function dtypeBytes(dtype: SafetensorsDtype): number {
  return DTYPE_BYTES[dtype];
}

/** The typed array that holds each dtype's raw values (F16/BF16 as their 16-bit patterns). */
export type RawTensorData =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint32Array;

/** One tensor's header entry. */
export interface TensorInfo {
  /** Stored dtype. */
  dtype: SafetensorsDtype;
  /** Dimensions. */
  shape: number[];
  /** Byte range inside the data section, `[begin, end)`. */
  dataOffsets: [number, number];
}

/** A tensor with its raw data, as read or as given to the writer. */
export interface RawTensor {
  /** Stored dtype. */
  dtype: SafetensorsDtype;
  /** Dimensions. */
  shape: number[];
  /** Values in the dtype's typed array (F16/BF16 as bit patterns). */
  data: RawTensorData;
}

// ---------------------------------------------------------------------------------------------
// float16 / bfloat16 conversion: the implementations live in core/onnx/float16.ts.

/**
 * Converts IEEE half-precision bit patterns to float32 (alias of `float16ToFloat32`).
 *
 * @example
 * ```ts
 * import { f16ToF32 } from "./safetensors.ts";
 * f16ToF32(new Uint16Array([0x3c00]))[0]; // 1
 * ```
 */
export const f16ToF32: (bits: Uint16Array) => Float32Array = float16ToFloat32;

/**
 * Converts bfloat16 bit patterns to float32 (alias of `bfloat16ToFloat32`).
 *
 * @example
 * ```ts
 * import { bf16ToF32 } from "./safetensors.ts";
 * bf16ToF32(new Uint16Array([0x3f80]))[0]; // 1
 * ```
 */
export const bf16ToF32: (bits: Uint16Array) => Float32Array = bfloat16ToFloat32;

/**
 * Rounds float32 values to half precision bit patterns, ties to even (alias of
 * `float32ToFloat16`).
 *
 * @example
 * ```ts
 * import { f32ToF16 } from "./safetensors.ts";
 * f32ToF16(new Float32Array([1, -2]))[1]; // 0xc000
 * ```
 */
export const f32ToF16: (values: ArrayLike<number>) => Uint16Array = float32ToFloat16;

/**
 * Rounds float32 values to bfloat16 bit patterns, ties to even (alias of `float32ToBfloat16`).
 *
 * @example
 * ```ts
 * import { f32ToBf16 } from "./safetensors.ts";
 * f32ToBf16(new Float32Array([1]))[0]; // 0x3f80
 * ```
 */
export const f32ToBf16: (values: ArrayLike<number>) => Uint16Array = float32ToBfloat16;

// ---------------------------------------------------------------------------------------------
// parsing

function fail(file: string, message: string): never {
  throw withCode(new SyntaxError(`${file}: ${message}`), "E_WEIGHTS");
}

/**
 * Parses a safetensors header from its JSON bytes and checks every entry.
 *
 * @example
 * ```ts
 * import { encodeSafetensors, parseSafetensorsHeader } from "./safetensors.ts";
 * const bytes = encodeSafetensors({ w: { dtype: "F32", shape: [1], data: new Float32Array([2]) } });
 * const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
 * parseSafetensorsHeader(bytes.subarray(8, 8 + n), "mem").tensors.get("w")?.shape; // [1]
 * ```
 */
export function parseSafetensorsHeader(
  json: Uint8Array,
  file: string,
  dataLength = Infinity,
): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(json));
  } catch (error) {
    fail(file, `header is not valid JSON (${(error as Error).message}); re-save the file`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail(file, "header is not a JSON object; re-save the file with a safetensors writer");
  }
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e?.dtype !== "string" || !(e.dtype in DTYPE_BYTES)) {
      fail(
        file,
        `tensor "${name}" has dtype ${JSON.stringify(e?.dtype)}; supported dtypes are ${
          Object.keys(DTYPE_BYTES).join(", ")
        } (convert the checkpoint to one of them)`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(file, `tensor "${name}" has shape ${JSON.stringify(shape)}; expected whole numbers`);
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) || offs.length !== 2 || !offs.every(Number.isInteger) ||
      offs[0] < 0 || offs[1] < offs[0] || offs[1] > dataLength
    ) {
      fail(file, `tensor "${name}" has data_offsets ${JSON.stringify(offs)} outside the data`);
    }
    const dtype = e.dtype as SafetensorsDtype;
    const expected = shape.reduce((a: number, b: number) => a * b, 1) * DTYPE_BYTES[dtype];
    if (offs[1] - offs[0] !== expected) {
      fail(
        file,
        `tensor "${name}" (${dtype} ${JSON.stringify(shape)}) needs ${expected} bytes but ` +
          `data_offsets span ${offs[1] - offs[0]}; the file is truncated or corrupt`,
      );
    }
    tensors.set(name, { dtype, shape: shape.slice(), dataOffsets: [offs[0], offs[1]] });
  }
  return { tensors, metadata };
}

/** Views raw little-endian bytes (copied into an aligned buffer) as the dtype's typed array. */
export function bytesToTyped(bytes: Uint8Array, dtype: SafetensorsDtype): RawTensorData {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return viewTyped(copy, dtype);
}

/** Views a whole, freshly allocated (so aligned) byte buffer as the dtype's typed array. */
function viewTyped(copy: Uint8Array, dtype: SafetensorsDtype): RawTensorData {
  const b = copy.buffer;
  switch (dtype) {
    case "F64":
      return new Float64Array(b);
    case "F32":
      return new Float32Array(b);
    case "F16":
    case "BF16":
    case "U16":
      return new Uint16Array(b);
    case "I64":
      return new BigInt64Array(b);
    case "U64":
      return new BigUint64Array(b);
    case "I32":
      return new Int32Array(b);
    case "U32":
      return new Uint32Array(b);
    case "I16":
      return new Int16Array(b);
    case "I8":
      return new Int8Array(b);
    case "U8":
    case "BOOL":
      return copy;
  }
}

/**
 * Converts a raw tensor of any float or integer dtype to float32.
 *
 * @example
 * ```ts
 * import { toFloat32 } from "./safetensors.ts";
 * toFloat32({ dtype: "BF16", shape: [1], data: new Uint16Array([0x4000]) })[0]; // 2
 * ```
 */
export function toFloat32(t: RawTensor): Float32Array {
  switch (t.dtype) {
    case "F32":
      return t.data as Float32Array;
    case "F16":
      return f16ToF32(t.data as Uint16Array);
    case "BF16":
      return bf16ToF32(t.data as Uint16Array);
    case "I64":
    case "U64": {
      const src = t.data as BigInt64Array | BigUint64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    default:
      return Float32Array.from(t.data as ArrayLike<number>);
  }
}

// ---------------------------------------------------------------------------------------------
// reading

/** The read side shared by a single file and a sharded directory. */
export interface TensorSource {
  /** Tensor names in header order. */
  names(): string[];
  /** Whether a tensor exists. */
  has(name: string): boolean;
  /** Header entry of a tensor, or `undefined`. */
  info(name: string): TensorInfo | undefined;
  /** Which file holds a tensor (for error messages). */
  fileOf(name: string): string;
  /** Reads one tensor's raw data from disk. */
  read(name: string): Promise<RawTensor>;
  /** Reads one tensor's raw data from disk, synchronously (packed integers stay exact). */
  readSync(name: string): RawTensor;
  /** Reads one tensor converted to float32. */
  readF32(name: string): Promise<Float32Array>;
  /** Reads one tensor converted to float32, synchronously (lazy graph initializers). */
  readF32Sync(name: string): Float32Array;
  /**
   * Reads rows `[start, end)` of a tensor (along its first dimension) converted to float32,
   * synchronously: a large table is quantized or converted a slice at a time.
   */
  readF32RowsSync(name: string, start: number, end: number): Float32Array;
  /** Closes the underlying file handles. */
  close(): void;
}

/**
 * One safetensors file opened lazily: the header is parsed on open, tensors are read on demand.
 *
 * @example
 * ```ts
 * import { SafetensorsFile } from "./safetensors.ts";
 * const f = await SafetensorsFile.open("model.safetensors");
 * const emb = await f.readF32("model.embed_tokens.weight");
 * f.close();
 * ```
 */
export class SafetensorsFile implements TensorSource {
  #file: Deno.FsFile;
  #path: string;
  #dataStart: number;
  #tensors: Map<string, TensorInfo>;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Record<string, string>;

  private constructor(
    file: Deno.FsFile,
    path: string,
    dataStart: number,
    tensors: Map<string, TensorInfo>,
    metadata: Record<string, string>,
  ) {
    this.#file = file;
    this.#path = path;
    this.#dataStart = dataStart;
    this.#tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens a file and parses its header. */
  static async open(path: string): Promise<SafetensorsFile> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw withCode(
          new TypeError(`${path}: file not found; check the model directory holds its weights`),
          "E_WEIGHTS",
        );
      }
      throw error;
    }
    try {
      const size = (await file.stat()).size;
      const head = new Uint8Array(8);
      await readExactly(file, head, 0, path);
      const n = Number(new DataView(head.buffer).getBigUint64(0, true));
      if (size < 8 || n <= 0 || 8 + n > size) {
        fail(path, `header length ${n} does not fit the file size ${size}; the file is corrupt`);
      }
      const json = new Uint8Array(n);
      await readExactly(file, json, 8, path);
      const { tensors, metadata } = parseSafetensorsHeader(json, path, size - 8 - n);
      return new SafetensorsFile(file, path, 8 + n, tensors, metadata);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.#tensors.keys()];
  }

  /** Whether a tensor exists. */
  has(name: string): boolean {
    return this.#tensors.has(name);
  }

  /** Header entry of a tensor, or `undefined`. */
  info(name: string): TensorInfo | undefined {
    return this.#tensors.get(name);
  }

  /** The path of this file. */
  fileOf(_name: string): string {
    return this.#path;
  }

  /** Reads one tensor's raw data from disk. */
  async read(name: string): Promise<RawTensor> {
    const info = this.#tensors.get(name);
    if (!info) {
      throw withCode(
        new RangeError(
          `${this.#path}: no tensor named "${name}"; the file has ${this.#tensors.size}`,
        ),
        "E_WEIGHTS",
      );
    }
    const [a, b] = info.dataOffsets;
    const bytes = new Uint8Array(b - a);
    await readExactly(this.#file, bytes, this.#dataStart + a, this.#path);
    return { dtype: info.dtype, shape: info.shape.slice(), data: bytesToTyped(bytes, info.dtype) };
  }

  /** Reads one tensor converted to float32. */
  async readF32(name: string): Promise<Float32Array> {
    return toFloat32(await this.read(name));
  }

  /** Reads one tensor's raw data from disk, synchronously. */
  readSync(name: string): RawTensor {
    const info = this.#infoOrThrow(name);
    const bytes = this.#readRange(info, 0, info.dataOffsets[1] - info.dataOffsets[0]);
    return { dtype: info.dtype, shape: info.shape.slice(), data: viewTyped(bytes, info.dtype) };
  }

  /** Reads one tensor converted to float32, synchronously. */
  readF32Sync(name: string): Float32Array {
    const info = this.#infoOrThrow(name);
    return this.#readF32Range(info, 0, info.dataOffsets[1] - info.dataOffsets[0]);
  }

  /** Reads rows `[start, end)` (first dimension) of a tensor converted to float32, synchronously. */
  readF32RowsSync(name: string, start: number, end: number): Float32Array {
    const info = this.#infoOrThrow(name);
    const rows = info.shape[0] ?? 1;
    if (
      !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end &&
        end <= rows)
    ) {
      throw withCode(
        new RangeError(
          `${this.#path}: rows [${start}, ${end}) of "${name}" are outside its ${rows} rows`,
        ),
        "E_WEIGHTS",
      );
    }
    const rowBytes = (info.dataOffsets[1] - info.dataOffsets[0]) / Math.max(rows, 1);
    return this.#readF32Range(info, start * rowBytes, (end - start) * rowBytes);
  }

  #infoOrThrow(name: string): TensorInfo {
    const info = this.#tensors.get(name);
    if (!info) {
      throw withCode(
        new RangeError(`${this.#path}: no tensor named "${name}"`),
        "E_WEIGHTS",
      );
    }
    return info;
  }

  /** `length` bytes of a tensor's data from byte `from`, as float32 (one buffer, no extra copy). */
  #readF32Range(info: TensorInfo, from: number, length: number): Float32Array {
    const bytes = this.#readRange(info, from, length);
    const n = length / dtypeBytes(info.dtype);
    return toFloat32({ dtype: info.dtype, shape: [n], data: viewTyped(bytes, info.dtype) });
  }

  /** `length` bytes of a tensor's data from byte `from`, in a fresh (so aligned) buffer. */
  #readRange(info: TensorInfo, from: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    const at = this.#dataStart + info.dataOffsets[0] + from;
    this.#file.seekSync(at, Deno.SeekMode.Start);
    let off = 0;
    while (off < bytes.length) {
      const n = this.#file.readSync(bytes.subarray(off));
      if (n === null) fail(this.#path, `unexpected end of file at byte ${at + off}`);
      off += n;
    }
    return bytes;
  }

  /** Closes the file. */
  close(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
  }
}

async function readExactly(file: Deno.FsFile, into: Uint8Array, pos: number, path: string) {
  await file.seek(pos, Deno.SeekMode.Start);
  let off = 0;
  while (off < into.length) {
    const n = await file.read(into.subarray(off));
    if (n === null) {
      fail(path, `unexpected end of file at byte ${pos + off}; the file is truncated`);
    }
    off += n;
  }
}

/**
 * Parses a whole safetensors file held in memory.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } });
 * decodeSafetensors(bytes).tensors.get("w")?.data; // Float32Array [1, 2]
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  file = "<memory>",
): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) fail(file, `only ${bytes.length} bytes; a safetensors file has at least 8`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) fail(file, `header length ${n} exceeds the ${bytes.length} bytes`);
  const data = bytes.subarray(8 + n);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), file, data.length);
  const tensors = new Map<string, RawTensor>();
  for (const [name, info] of header.tensors) {
    const [a, b] = info.dataOffsets;
    tensors.set(name, {
      dtype: info.dtype,
      shape: info.shape,
      data: bytesToTyped(data.subarray(a, b), info.dtype),
    });
  }
  return { tensors, metadata: header.metadata };
}

// ---------------------------------------------------------------------------------------------
// sharded directories

/** Name of the single-file checkpoint in a model directory. */
export const SAFETENSORS_FILE = "model.safetensors";
/** Name of the shard index of a sharded checkpoint. */
export const SAFETENSORS_INDEX = "model.safetensors.index.json";

class ShardedSource implements TensorSource {
  #shards: Map<string, SafetensorsFile>;
  #where: Map<string, SafetensorsFile>;

  constructor(shards: Map<string, SafetensorsFile>, where: Map<string, SafetensorsFile>) {
    this.#shards = shards;
    this.#where = where;
  }
  names(): string[] {
    return [...this.#where.keys()];
  }
  has(name: string): boolean {
    return this.#where.has(name);
  }
  info(name: string): TensorInfo | undefined {
    return this.#where.get(name)?.info(name);
  }
  fileOf(name: string): string {
    return this.#where.get(name)?.fileOf(name) ?? [...this.#shards.keys()].join(", ");
  }
  read(name: string): Promise<RawTensor> {
    const f = this.#where.get(name);
    if (!f) {
      return Promise.reject(withCode(
        new RangeError(
          `no tensor named "${name}" in shards ${[...this.#shards.keys()].join(", ")}`,
        ),
        "E_WEIGHTS",
      ));
    }
    return f.read(name);
  }
  async readF32(name: string): Promise<Float32Array> {
    return toFloat32(await this.read(name));
  }
  readSync(name: string): RawTensor {
    return this.#shardOf(name).readSync(name);
  }
  readF32Sync(name: string): Float32Array {
    return this.#shardOf(name).readF32Sync(name);
  }
  readF32RowsSync(name: string, start: number, end: number): Float32Array {
    return this.#shardOf(name).readF32RowsSync(name, start, end);
  }
  #shardOf(name: string): SafetensorsFile {
    const f = this.#where.get(name);
    if (!f) throw withCode(new RangeError(`no tensor named "${name}" in the shards`), "E_WEIGHTS");
    return f;
  }
  close(): void {
    for (const f of this.#shards.values()) f.close();
  }
}

/**
 * Opens the weights of a model directory: `model.safetensors`, or the shards listed in
 * `model.safetensors.index.json` (its `weight_map`), presented as one tensor source.
 *
 * @example
 * ```ts
 * import { openSafetensorsDir } from "./safetensors.ts";
 * const src = await openSafetensorsDir("/models/tiny");
 * console.log(src.names().length);
 * src.close();
 * ```
 */
export async function openSafetensorsDir(dir: string): Promise<TensorSource> {
  const indexPath = join(dir, SAFETENSORS_INDEX);
  let indexText: string | null = null;
  try {
    indexText = await Deno.readTextFile(indexPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (indexText === null) {
    try {
      await Deno.stat(join(dir, SAFETENSORS_FILE));
    } catch {
      throw withCode(
        new TypeError(
          `${dir}: neither ${SAFETENSORS_FILE} nor ${SAFETENSORS_INDEX} exists; put the model's ` +
            `safetensors weights in the directory (PyTorch .bin checkpoints are not read)`,
        ),
        "E_WEIGHTS",
      );
    }
    return await SafetensorsFile.open(join(dir, SAFETENSORS_FILE));
  }
  let weightMap: Record<string, string>;
  try {
    weightMap = JSON.parse(indexText).weight_map;
  } catch (error) {
    fail(indexPath, `is not valid JSON (${(error as Error).message}); re-download it`);
  }
  if (typeof weightMap !== "object" || weightMap === null) {
    fail(indexPath, `has no "weight_map" object; re-download it`);
  }
  const shards = new Map<string, SafetensorsFile>();
  const where = new Map<string, SafetensorsFile>();
  try {
    for (const [name, shard] of Object.entries(weightMap)) {
      if (typeof shard !== "string" || shard.includes("..") || shard.startsWith("/")) {
        fail(indexPath, `weight_map["${name}"] is ${JSON.stringify(shard)}; expected a file name`);
      }
      let f = shards.get(shard);
      if (!f) {
        f = await SafetensorsFile.open(join(dir, shard));
        shards.set(shard, f);
      }
      if (!f.has(name)) {
        fail(indexPath, `weight_map puts "${name}" in ${shard}, but that shard lacks it`);
      }
      where.set(name, f);
    }
  } catch (error) {
    for (const f of shards.values()) f.close();
    throw error;
  }
  return new ShardedSource(shards, where);
}

// ---------------------------------------------------------------------------------------------
// writing

/** Tensors to write: a map or a record from name to raw tensor. */
export type TensorsToWrite = Map<string, RawTensor> | Record<string, RawTensor>;

/**
 * Encodes tensors (and optional string metadata) as safetensors bytes. Tensors are laid out in
 * the given order; the header is padded with spaces to a multiple of 8 bytes.
 *
 * @example
 * ```ts
 * import { encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   { "v": { dtype: "F32", shape: [3], data: new Float32Array([1, 2, 3]) } },
 *   { format: "pt" },
 * );
 * ```
 */
export function encodeSafetensors(
  tensors: TensorsToWrite,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        throw new TypeError(
          `metadata["${k}"] is ${JSON.stringify(v)}; metadata values are strings`,
        );
      }
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (!(t.dtype in DTYPE_BYTES)) {
      throw new TypeError(`tensor "${name}" has dtype ${JSON.stringify(t.dtype)}; not writable`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    const bytes = count * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new RangeError(
        `tensor "${name}": shape ${JSON.stringify(t.shape)} ${t.dtype} needs ${bytes} bytes, ` +
          `data has ${t.data.byteLength}; pass data matching the shape`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headBytes = enc.encode(json);
  const pad = (8 - (headBytes.length % 8)) % 8;
  if (pad) {
    json += " ".repeat(pad);
    headBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headBytes.length), true);
  out.set(headBytes, 8);
  let pos = 8 + headBytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Writes tensors to a safetensors file atomically (temporary file, then rename).
 *
 * @example
 * ```ts
 * import { writeSafetensors } from "./safetensors.ts";
 * await writeSafetensors("/tmp/v.safetensors", {
 *   vec: { dtype: "F32", shape: [2], data: new Float32Array([0.5, 1]) },
 * }, { kind: "persona_vector" });
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorsToWrite,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
