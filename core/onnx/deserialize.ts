/**
 * Reads ONNX protobuf back into the IR: enough of the format to load what {@link writeModel}
 * writes (and typical exporter output: raw or typed data fields, external data), for tests and for
 * inspecting model files.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { withCode } from "../errors.ts";
import {
  type Attribute,
  type DType,
  dtypeFromCode,
  dtypeSize,
  type Graph,
  type LazyData,
  type Model,
  type Node,
  numElements,
  type Shape,
  type TensorProtoData,
  type TypedData,
  type ValueInfo,
} from "./ir.ts";
import {
  fieldFloat,
  fieldFloats,
  fieldInt,
  fieldInts,
  fieldString,
  type ProtoField,
  readFields,
  WIRE,
} from "./protobuf.ts";
import type { ExternalRef } from "./serialize.ts";

/** Supplies the bytes of an external tensor. */
export type ExternalReader = (ref: ExternalRef) => Uint8Array;

/**
 * An external tensor decoded with `external: "defer"`: where its bytes lie, unread. `read()`
 * throws `E_GRAPH`.
 */
export interface DeferredData extends LazyData {
  readonly ref: ExternalRef;
}

/**
 * Whether a tensor's data was left unread by `decodeModel(bytes, { external: "defer" })`.
 *
 * @example
 * ```ts
 * import { isDeferred } from "./deserialize.ts";
 * console.log(isDeferred(new Float32Array(2))); // false
 * ```
 */
export function isDeferred(data: TensorProtoData["data"]): data is DeferredData {
  return !ArrayBuffer.isView(data) && "ref" in data;
}

/** How {@link decodeModel} treats external tensors: read through a reader, or leave them unread. */
export type ExternalMode = ExternalReader | "defer";

function typedFromBytes(dtype: DType, bytes: Uint8Array): TypedData {
  // Copy so the typed array is aligned and owns its memory.
  const buf = bytes.slice().buffer;
  switch (dtype) {
    case "float32":
      return new Float32Array(buf);
    case "float64":
      return new Float64Array(buf);
    case "int64":
      return new BigInt64Array(buf);
    case "int32":
      return new Int32Array(buf);
    case "int8":
      return new Int8Array(buf);
    case "float16":
    case "bfloat16":
      return new Uint16Array(buf);
    default:
      return new Uint8Array(buf);
  }
}

function decodeTensor(bytes: Uint8Array, external?: ExternalMode): TensorProtoData {
  const dims: number[] = [];
  let code = 0;
  let name = "";
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const doubles: number[] = [];
  const ext: Record<string, string> = {};
  let location = 0;
  for (const f of readFields(bytes)) {
    if (f.field === 1) dims.push(...fieldInts(f));
    else if (f.field === 2) code = fieldInt(f);
    else if (f.field === 8) name = fieldString(f);
    else if (f.field === 9) raw = f.bytes;
    else if (f.field === 4) {
      floats.push(...(f.wire === WIRE.LEN ? fieldFloats(f) : [fieldFloat(f)]));
    } else if (f.field === 5 || f.field === 7) ints.push(...fieldInts(f));
    else if (f.field === 10) {
      const b = f.bytes!;
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i + 8 <= b.byteLength; i += 8) doubles.push(v.getFloat64(i, true));
    } else if (f.field === 13) {
      let k = "";
      let val = "";
      for (const e of readFields(f.bytes!)) {
        if (e.field === 1) k = fieldString(e);
        else if (e.field === 2) val = fieldString(e);
      }
      ext[k] = val;
    } else if (f.field === 14) location = fieldInt(f);
  }
  const dtype = dtypeFromCode(code);
  const n = numElements(dims);
  let data: TypedData | DeferredData;
  if (location === 1) {
    const ref: ExternalRef = {
      location: ext.location,
      offset: Number(ext.offset ?? 0),
      length: Number(ext.length ?? n * dtypeSize(dtype)),
    };
    if (!external) {
      throw withCode(
        new TypeError(
          `tensor "${name}" lives in external file "${ref.location}"; pass an external reader or use readModel(path)`,
        ),
        "E_GRAPH",
      );
    }
    if (external === "defer") {
      const deferred: DeferredData = {
        ref,
        byteLength: ref.length,
        read: () => {
          throw withCode(
            new Error(
              `tensor "${name}" was decoded without its external data; use readModel(path)`,
            ),
            "E_GRAPH",
          );
        },
      };
      return { name, dtype, shape: dims, data: deferred };
    }
    data = typedFromBytes(dtype, external(ref));
  } else if (raw) {
    data = typedFromBytes(dtype, raw);
  } else if (dtype === "float32") data = Float32Array.from(floats);
  else if (dtype === "float64") data = Float64Array.from(doubles);
  else if (dtype === "int64") data = BigInt64Array.from(ints, (x) => BigInt(x));
  else if (dtype === "int32") data = Int32Array.from(ints);
  else if (dtype === "int8") data = Int8Array.from(ints);
  else if (dtype === "float16" || dtype === "bfloat16") data = Uint16Array.from(ints);
  else data = Uint8Array.from(ints);
  if (data.byteLength !== n * dtypeSize(dtype)) {
    throw withCode(
      new RangeError(
        `tensor "${name}" has ${data.byteLength} bytes; ${dtype}[${dims}] needs ${
          n * dtypeSize(dtype)
        }`,
      ),
      "E_GRAPH",
    );
  }
  return { name, dtype, shape: dims, data };
}

function decodeValueInfo(bytes: Uint8Array): ValueInfo {
  let name = "";
  let dtype: DType = "float32";
  const shape: Shape = [];
  for (const f of readFields(bytes)) {
    if (f.field === 1) name = fieldString(f);
    else if (f.field === 2) {
      for (const t of readFields(f.bytes!)) {
        if (t.field !== 1) continue;
        for (const tt of readFields(t.bytes!)) {
          if (tt.field === 1) dtype = dtypeFromCode(fieldInt(tt));
          else if (tt.field === 2) {
            for (const d of readFields(tt.bytes!)) {
              if (d.field !== 1) continue;
              let dim: number | string = "?";
              for (const x of readFields(d.bytes!)) {
                if (x.field === 1) dim = fieldInt(x);
                else if (x.field === 2) dim = fieldString(x);
              }
              shape.push(dim);
            }
          }
        }
      }
    }
  }
  return { name, dtype, shape };
}

function decodeAttribute(bytes: Uint8Array, external?: ExternalMode): [string, Attribute] {
  let name = "";
  let type = 0;
  const fields: ProtoField[] = [];
  for (const f of readFields(bytes)) {
    if (f.field === 1) name = fieldString(f);
    else if (f.field === 20) type = fieldInt(f);
    else fields.push(f);
  }
  const pick = (n: number) => fields.filter((f) => f.field === n);
  switch (type) {
    case 1:
      return [name, { type: "float", value: pick(2).map(fieldFloat)[0] ?? 0 }];
    case 2:
      return [name, { type: "int", value: pick(3).map(fieldInt)[0] ?? 0 }];
    case 3:
      return [name, { type: "string", value: pick(4).map(fieldString)[0] ?? "" }];
    case 4:
      return [name, { type: "tensor", value: decodeTensor(pick(5)[0].bytes!, external) }];
    case 6:
      return [name, {
        type: "floats",
        value: pick(7).flatMap((f) => f.wire === WIRE.LEN ? fieldFloats(f) : [fieldFloat(f)]),
      }];
    case 7:
      return [name, { type: "ints", value: pick(8).flatMap(fieldInts) }];
    case 8:
      return [name, { type: "strings", value: pick(9).map(fieldString) }];
    default:
      throw withCode(
        new TypeError(`attribute "${name}" has type code ${type}, which Dramatis does not read`),
        "E_GRAPH",
      );
  }
}

function decodeNode(bytes: Uint8Array, external?: ExternalMode): Node {
  const node: Node = { name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: {} };
  for (const f of readFields(bytes)) {
    if (f.field === 1) node.inputs.push(fieldString(f));
    else if (f.field === 2) node.outputs.push(fieldString(f));
    else if (f.field === 3) node.name = fieldString(f);
    else if (f.field === 4) node.opType = fieldString(f);
    else if (f.field === 5) {
      const [k, a] = decodeAttribute(f.bytes!, external);
      node.attributes[k] = a;
    } else if (f.field === 7) node.domain = fieldString(f);
  }
  return node;
}

function decodeGraph(bytes: Uint8Array, external?: ExternalMode): Graph {
  const g: Graph = {
    name: "",
    nodes: [],
    inputs: [],
    outputs: [],
    initializers: [],
    valueInfo: [],
  };
  for (const f of readFields(bytes)) {
    if (f.field === 1) g.nodes.push(decodeNode(f.bytes!, external));
    else if (f.field === 2) g.name = fieldString(f);
    else if (f.field === 5) g.initializers.push(decodeTensor(f.bytes!, external));
    else if (f.field === 11) g.inputs.push(decodeValueInfo(f.bytes!));
    else if (f.field === 12) g.outputs.push(decodeValueInfo(f.bytes!));
    else if (f.field === 13) g.valueInfo!.push(decodeValueInfo(f.bytes!));
  }
  return g;
}

/**
 * Decodes ONNX model bytes. External tensors are read through `external` when given, or left
 * unread as {@link DeferredData} (their location, offset and length) with `external: "defer"`.
 *
 * @example
 * ```ts
 * import { decodeModel, GraphBuilder, makeModel, serializeModel } from "./mod.ts";
 * const b = new GraphBuilder();
 * b.output("y", "float32", [1], b.op1("Neg", [b.input("x", "float32", [1])]));
 * const back = decodeModel(serializeModel(makeModel(b.graph())).model);
 * console.log(back.graph.nodes.map((n) => n.opType)); // ["Neg", "Identity"]
 * ```
 */
export function decodeModel(bytes: Uint8Array, options: { external?: ExternalMode } = {}): Model {
  const model: Model = {
    graph: { name: "", nodes: [], inputs: [], outputs: [], initializers: [] },
    irVersion: 0,
    opsetImports: [],
    producerName: "",
    producerVersion: "",
    metadata: {},
  };
  for (const f of readFields(bytes)) {
    if (f.field === 1) model.irVersion = fieldInt(f);
    else if (f.field === 2) model.producerName = fieldString(f);
    else if (f.field === 3) model.producerVersion = fieldString(f);
    else if (f.field === 6) model.docString = fieldString(f);
    else if (f.field === 7) model.graph = decodeGraph(f.bytes!, options.external);
    else if (f.field === 8) {
      let domain = "";
      let version = 0;
      for (const o of readFields(f.bytes!)) {
        if (o.field === 1) domain = fieldString(o);
        else if (o.field === 2) version = fieldInt(o);
      }
      model.opsetImports.push({ domain, version });
    } else if (f.field === 14) {
      let k = "";
      let v = "";
      for (const e of readFields(f.bytes!)) {
        if (e.field === 1) k = fieldString(e);
        else if (e.field === 2) v = fieldString(e);
      }
      model.metadata[k] = v;
    }
  }
  return model;
}

/**
 * Reads an ONNX file, resolving external data relative to the model's folder.
 *
 * @example
 * ```ts
 * import { readModel } from "./deserialize.ts";
 * const model = await readModel("/tmp/dramatis_doc/model.onnx");
 * console.log(model.graph.initializers.length);
 * ```
 */
export async function readModel(path: string): Promise<Model> {
  const bytes = await Deno.readFile(path);
  const dir = dirname(path);
  const files = new Map<string, Deno.FsFile>();
  try {
    return decodeModel(bytes, {
      external: (ref) => {
        if (ref.location.includes("..") || ref.location.startsWith("/")) {
          throw withCode(
            new RangeError(
              `external data location "${ref.location}" escapes the model folder ${dir}`,
            ),
            "E_GRAPH",
          );
        }
        let file = files.get(ref.location);
        if (!file) {
          file = Deno.openSync(join(dir, ref.location), { read: true });
          files.set(ref.location, file);
        }
        const out = new Uint8Array(ref.length);
        file.seekSync(ref.offset, Deno.SeekMode.Start);
        for (let off = 0; off < out.length;) {
          const n = file.readSync(out.subarray(off));
          if (n === null || n === 0) {
            throw withCode(
              new RangeError(
                `external data "${ref.location}" ends before offset ${ref.offset + ref.length}`,
              ),
              "E_GRAPH",
            );
          }
          off += n;
        }
        return out;
      },
    });
  } finally {
    for (const f of files.values()) f.close();
  }
}
