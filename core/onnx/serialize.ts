/**
 * ONNX protobuf serialization written against the ONNX IR spec's field numbers: ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto/TypeProto,
 * OperatorSetIdProto and StringStringEntryProto. Large weights go to an external data file that
 * is streamed to disk tensor by tensor, so models over the 2 GB protobuf limit load.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { withCode } from "../errors.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import {
  type Attribute,
  type Graph,
  isLazy,
  type Model,
  type Node,
  ONNX_DTYPE_CODE,
  type TensorProtoData,
  type ValueInfo,
} from "./ir.ts";
import { ProtoWriter } from "./protobuf.ts";

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error(
    "Dramatis writes tensor bytes as stored in memory and needs a little-endian host",
  );
}

/** Where one tensor's bytes live in the external data file. */
export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

/** Options for external weights. */
export interface ExternalDataOptions {
  /** File name of the data file, relative to the model file. Default `<model file name>_data`. */
  location?: string;
  /** Tensors of at least this many bytes go external. Default 1024. */
  threshold?: number;
  /** Offset alignment in bytes (lets onnxruntime map the file). Default 4096. */
  align?: number;
  /**
   * Tensors already written to another data file next to the model (see
   * {@link writeTensorFile}): initializers named in `index` reference that file instead of being
   * written again; each one's byte length must match its entry.
   */
  shared?: SharedTensorFile;
}

/** A data file of tensors shared by several models, and where each tensor lies in it. */
export interface SharedTensorFile {
  /** File name relative to the model file (a bare name). */
  location: string;
  /** Byte range of each tensor, by initializer name. */
  index: Record<string, { offset: number; length: number }>;
}

const ATTR_CODE: Record<Attribute["type"], number> = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  floats: 6,
  ints: 7,
  strings: 8,
};

/**
 * The element bytes of a tensor (reads lazy data).
 *
 * @example
 * ```ts
 * import { tensorBytes } from "./serialize.ts";
 * const t = { name: "w", dtype: "float32" as const, shape: [2], data: new Float32Array([1, 2]) };
 * console.log(tensorBytes(t).length); // 8
 * ```
 */
export function tensorBytes(t: TensorProtoData): Uint8Array {
  const d = isLazy(t.data) ? t.data.read() : t.data;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function writeTensor(w: ProtoWriter, t: TensorProtoData, ref?: ExternalRef): void {
  w.packedInt64(1, t.shape);
  w.int64(2, ONNX_DTYPE_CODE[t.dtype]);
  if (t.name) w.string(8, t.name);
  if (ref) {
    for (
      const [k, v] of [["location", ref.location], ["offset", String(ref.offset)], [
        "length",
        String(ref.length),
      ]]
    ) {
      w.message(13, (e) => e.string(1, k).string(2, v));
    }
    w.int64(14, 1);
  } else {
    w.bytes(9, tensorBytes(t));
  }
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int64(1, ONNX_DTYPE_CODE[v.dtype]);
      tt.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => typeof d === "number" ? dim.int64(1, d) : dim.string(2, d));
        }
      });
    }));
}

function writeAttribute(w: ProtoWriter, name: string, a: Attribute): void {
  w.string(1, name);
  w.int64(20, ATTR_CODE[a.type]);
  switch (a.type) {
    case "float":
      w.float(2, a.value);
      break;
    case "int":
      w.int64(3, a.value);
      break;
    case "string":
      w.string(4, a.value);
      break;
    case "tensor":
      w.message(5, (t) => writeTensor(t, a.value));
      break;
    case "floats":
      w.packedFloat(7, a.value);
      break;
    case "ints":
      w.packedInt64(8, a.value);
      break;
    case "strings":
      for (const s of a.value) w.string(9, s);
      break;
  }
}

function writeNode(w: ProtoWriter, n: Node): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, a] of Object.entries(n.attributes)) w.message(5, (aw) => writeAttribute(aw, k, a));
  if (n.domain) w.string(7, n.domain);
}

function writeGraph(w: ProtoWriter, g: Graph, refs: Map<TensorProtoData, ExternalRef>): void {
  for (const n of g.nodes) w.message(1, (nw) => writeNode(nw, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (tw) => writeTensor(tw, t, refs.get(t)));
  for (const v of g.inputs) w.message(11, (vw) => writeValueInfo(vw, v));
  for (const v of g.outputs) w.message(12, (vw) => writeValueInfo(vw, v));
  for (const v of g.valueInfo ?? []) w.message(13, (vw) => writeValueInfo(vw, v));
}

function encode(model: Model, refs: Map<TensorProtoData, ExternalRef>): Uint8Array {
  const w = new ProtoWriter();
  w.int64(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (gw) => writeGraph(gw, model.graph, refs));
  for (const o of model.opsetImports) {
    w.message(8, (ow) => ow.string(1, o.domain).int64(2, o.version));
  }
  for (const [k, v] of Object.entries(model.metadata)) {
    w.message(14, (e) => e.string(1, k).string(2, v));
  }
  return w.finish().slice();
}

const LIMIT = 2 ** 31 - 1;

function tooLarge(bytes: number): RangeError {
  return withCode(
    new RangeError(
      `the model protobuf would be ${bytes} bytes, over the 2 GB protobuf limit; write it with external data (writeModel, or serializeModel with externalData)`,
    ),
    "E_GRAPH",
  );
}

function tensorByteLength(t: TensorProtoData): number {
  return t.data.byteLength;
}

/**
 * Serializes a model to ONNX bytes in memory. With `externalData`, initializers of at least
 * `threshold` bytes are packed into one returned buffer, in the `{path, data}` form
 * onnxruntime-node's `externalData` session option takes.
 *
 * @example
 * ```ts
 * import { GraphBuilder, makeModel, serializeModel } from "./mod.ts";
 * const b = new GraphBuilder();
 * b.output("y", "float32", [2], b.op1("Neg", [b.input("x", "float32", [2])]));
 * const { model } = serializeModel(makeModel(b.graph()));
 * console.log(model.length > 0);
 * ```
 */
export function serializeModel(
  model: Model,
  options: { externalData?: ExternalDataOptions & { location: string } } = {},
): { model: Uint8Array; externalData: { path: string; data: Uint8Array }[] } {
  const refs = new Map<TensorProtoData, ExternalRef>();
  const external: { path: string; data: Uint8Array }[] = [];
  if (options.externalData) {
    const { location, threshold = 1024, align = 4096 } = options.externalData;
    const plan = planExternal(model.graph, location, threshold, align, options.externalData.shared);
    const data = new Uint8Array(plan.size);
    const written = new Set<ExternalRef>();
    for (const [t, ref] of plan.refs) {
      if (!written.has(ref) && ref.location === location) data.set(tensorBytes(t), ref.offset);
      written.add(ref);
      refs.set(t, ref);
    }
    external.push({ path: location, data });
  } else {
    const total = model.graph.initializers.reduce((s, t) => s + tensorByteLength(t), 0);
    if (total > LIMIT) throw tooLarge(total);
  }
  const bytes = encode(model, refs);
  if (bytes.length > LIMIT) throw tooLarge(bytes.length);
  return { model: bytes, externalData: external };
}

function planExternal(
  graph: Graph,
  location: string,
  threshold: number,
  align: number,
  shared?: SharedTensorFile,
): { refs: Map<TensorProtoData, ExternalRef>; size: number } {
  if (!Number.isInteger(align) || align < 1) {
    throw withCode(
      new RangeError(`externalData.align is ${align}; pass a whole number >= 1`),
      "E_GRAPH",
    );
  }
  if (location.includes("/") || location.includes("\\") || location === "") {
    throw withCode(
      new TypeError(
        `externalData.location is ${
          JSON.stringify(location)
        }; pass a bare file name next to the model`,
      ),
      "E_GRAPH",
    );
  }
  const refs = new Map<TensorProtoData, ExternalRef>();
  // Initializers that share one data object (e.g. a quantized embedding table that the tied
  // lm_head reads in another shape) share its bytes in the file: written once, referenced twice.
  const byData = new Map<unknown, { ref: ExternalRef; dtype: string }>();
  let offset = 0;
  for (const t of graph.initializers) {
    const length = tensorByteLength(t);
    const there = shared && Object.hasOwn(shared.index, t.name) ? shared.index[t.name] : undefined;
    if (there) {
      if (there.length !== length) {
        throw withCode(
          new RangeError(
            `initializer "${t.name}" has ${length} bytes but the shared data file ` +
              `${shared!.location} holds ${there.length}; delete the cache entry and export again`,
          ),
          "E_GRAPH",
        );
      }
      refs.set(t, { location: shared!.location, offset: there.offset, length });
      continue;
    }
    if (length < threshold || length === 0) continue;
    const seen = byData.get(t.data);
    if (seen && seen.ref.length === length && seen.dtype === t.dtype) {
      refs.set(t, seen.ref);
      continue;
    }
    offset = Math.ceil(offset / align) * align;
    const ref = { location, offset, length };
    refs.set(t, ref);
    byData.set(t.data, { ref, dtype: t.dtype });
    offset += length;
  }
  return { refs, size: offset };
}

/**
 * Writes a model to `path`, streaming large initializers into an external data file next to it
 * (`<file>_data` by default) one tensor at a time. Both files are replaced atomically.
 * Pass `externalData: false` for a single self-contained file (under 2 GB only).
 *
 * @example
 * ```ts
 * import { GraphBuilder, makeModel, writeModel } from "./mod.ts";
 * const b = new GraphBuilder();
 * const w = b.initializer("w", "float32", [2], new Float32Array([1, 2]));
 * b.output("y", "float32", [2], b.op1("Add", [b.input("x", "float32", [2]), w]));
 * await writeModel(makeModel(b.graph()), "/tmp/dramatis_doc/model.onnx");
 * ```
 */
export async function writeModel(
  model: Model,
  path: string,
  options: { externalData?: ExternalDataOptions | false } = {},
): Promise<{ modelPath: string; dataPath: string | null; dataBytes: number }> {
  if (options.externalData === false) {
    await writeFileAtomic(path, serializeModel(model).model);
    return { modelPath: path, dataPath: null, dataBytes: 0 };
  }
  const ext = options.externalData ?? {};
  const location = ext.location ?? `${basename(path)}_data`;
  const plan = planExternal(
    model.graph,
    location,
    ext.threshold ?? 1024,
    ext.align ?? 4096,
    ext.shared,
  );
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  if (plan.refs.size === 0) {
    await writeFileAtomic(path, encode(model, plan.refs));
    return { modelPath: path, dataPath: null, dataBytes: 0 };
  }
  const dataPath = join(dir, location);
  await writeRefsAtomic(dataPath, plan.refs, (ref) => ref.location === location);
  const bytes = encode(model, plan.refs);
  if (bytes.length > LIMIT) throw tooLarge(bytes.length);
  await writeFileAtomic(path, bytes);
  return { modelPath: path, dataPath, dataBytes: plan.size };
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  const CHUNK = 1 << 24;
  for (let off = 0; off < bytes.length;) {
    off += await file.write(bytes.subarray(off, Math.min(off + CHUNK, bytes.length)));
  }
}

/**
 * Writes each distinct external tensor that `keep` selects at its planned offset (zero-filled
 * gaps) into `path`, atomically: a temporary file beside it, synced, then renamed.
 */
async function writeRefsAtomic(
  path: string,
  refs: ReadonlyMap<TensorProtoData, ExternalRef>,
  keep: (ref: ExternalRef) => boolean,
): Promise<void> {
  const tmp = join(dirname(path), `.${crypto.randomUUID()}.data.tmp`);
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    let pos = 0;
    const written = new Set<ExternalRef>();
    for (const [t, ref] of refs) {
      if (written.has(ref) || !keep(ref)) continue;
      written.add(ref);
      if (ref.offset > pos) await writeAll(file, new Uint8Array(ref.offset - pos));
      const bytes = tensorBytes(t);
      if (bytes.byteLength !== ref.length) {
        throw withCode(
          new RangeError(
            `tensor "${t.name}" produced ${bytes.byteLength} bytes; it declared ${ref.length}`,
          ),
          "E_GRAPH",
        );
      }
      await writeAll(file, bytes);
      pos = ref.offset + ref.length;
    }
    await file.sync();
    file.close();
    await Deno.rename(tmp, path);
  } catch (error) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * Writes tensors into one data file (atomically), aligned, each distinct data object once, and
 * returns where each tensor lies — the `index` of a {@link SharedTensorFile} that models then
 * reference instead of holding their own copy.
 *
 * @example
 * ```ts
 * import { writeTensorFile } from "./serialize.ts";
 * const t = { name: "w", dtype: "float32" as const, shape: [2], data: new Float32Array([1, 2]) };
 * const index = await writeTensorFile([t], "/tmp/dramatis_doc/weights.bin");
 * console.log(index.w); // { offset: 0, length: 8 }
 * ```
 */
export async function writeTensorFile(
  tensors: readonly TensorProtoData[],
  path: string,
  align = 65536,
): Promise<Record<string, { offset: number; length: number }>> {
  const plan = planExternal(
    { name: "", nodes: [], inputs: [], outputs: [], initializers: [...tensors] },
    basename(path),
    0,
    align,
  );
  await Deno.mkdir(dirname(path), { recursive: true });
  const index: Record<string, { offset: number; length: number }> = {};
  for (const [t, ref] of plan.refs) index[t.name] = { offset: ref.offset, length: ref.length };
  await writeRefsAtomic(path, plan.refs, () => true);
  return index;
}
