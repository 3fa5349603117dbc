/**
 * The in-memory graph IR of Dramatis: a plain-data mirror of the parts of ONNX we build, infer,
 * differentiate and serialize. Values are referred to by name, as in ONNX.
 *
 * @module
 */

/** Element types a graph value or tensor may have. */
export type DType =
  | "float32"
  | "float16"
  | "bfloat16"
  | "float64"
  | "int64"
  | "int32"
  | "int8"
  | "uint8"
  | "bool";

/**
 * Every {@link DType}, in a stable order.
 *
 * @example
 * ```ts
 * import { DTYPES } from "./ir.ts";
 * console.log(DTYPES.includes("bfloat16")); // true
 * ```
 */
export const DTYPES: readonly DType[] = [
  "float32",
  "float16",
  "bfloat16",
  "float64",
  "int64",
  "int32",
  "int8",
  "uint8",
  "bool",
];

/** A dimension: a fixed size, or a symbolic name such as `"batch_size"`. */
export type Dim = number | string;

/** A tensor shape; `[]` is a scalar. */
export type Shape = Dim[];

/** Dense element storage for one tensor, matched to its {@link DType}. */
export type TypedData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

/**
 * Tensor bytes produced on demand, so a large graph never holds a second copy of every weight
 * (for example a transposed linear weight made only while the weights file is written).
 */
export interface LazyData {
  /** Size in bytes of what {@link LazyData.read} returns. */
  readonly byteLength: number;
  /** Produces the little-endian element bytes (or a typed array of the tensor's dtype). */
  read(): TypedData;
}

/**
 * A constant tensor: an initializer or a tensor-valued attribute. `data` is either a typed array
 * of the dtype (`Uint16Array` for float16/bfloat16, `Uint8Array` for bool), raw little-endian bytes
 * (`Uint8Array`), or {@link LazyData}.
 */
export interface TensorProtoData {
  name: string;
  dtype: DType;
  shape: number[];
  data: TypedData | LazyData;
}

/** A typed node attribute (ONNX AttributeProto kinds we use). */
export type Attribute =
  | { type: "float"; value: number }
  | { type: "int"; value: number }
  | { type: "string"; value: string }
  | { type: "tensor"; value: TensorProtoData }
  | { type: "floats"; value: number[] }
  | { type: "ints"; value: number[] }
  | { type: "strings"; value: string[] };

/** The kinds of {@link Attribute}. */
export type AttributeType = Attribute["type"];

/** One operator application. An empty input name marks an omitted optional input. */
export interface Node {
  name: string;
  opType: string;
  /** `""` is the default ONNX domain (`ai.onnx`). */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
}

/** A named, typed value (graph input, output or annotation). */
export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Shape;
}

/**
 * A computation graph. Nodes are kept in topological order by the builder (the engine's cached
 * decoder graphs list one node early for onnxruntime: `largestProductFirst` in
 * core/model/graph_quant.ts).
 */
export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: TensorProtoData[];
  /** Optional shape annotations for intermediate values. */
  valueInfo?: ValueInfo[];
}

/** An operator set import (`""` = default domain). */
export interface OpsetImport {
  domain: string;
  version: number;
}

/** A whole model: a graph plus the header ONNX needs. */
export interface Model {
  graph: Graph;
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  /** Free-form key/value pairs (ONNX `metadata_props`). */
  metadata: Record<string, string>;
}

/**
 * IR version Dramatis writes (onnxruntime 1.30 accepts up to 13).
 *
 * @example
 * ```ts
 * import { IR_VERSION } from "./ir.ts";
 * console.log(IR_VERSION); // 8
 * ```
 */
export const IR_VERSION = 8;
/**
 * Default-domain opset Dramatis writes (f64 kernels were verified at 18).
 *
 * @example
 * ```ts
 * import { OPSET_VERSION } from "./ir.ts";
 * console.log(OPSET_VERSION); // 18
 * ```
 */
export const OPSET_VERSION = 18;

/**
 * Wraps a graph into a model with the project's IR version and opset imports.
 *
 * @example
 * ```ts
 * import { makeModel } from "./ir.ts";
 * const model = makeModel({ name: "g", nodes: [], inputs: [], outputs: [], initializers: [] });
 * console.log(model.irVersion, model.opsetImports);
 * ```
 */
export function makeModel(
  graph: Graph,
  options: { metadata?: Record<string, string>; docString?: string } = {},
): Model {
  const domains = new Set(
    graph.nodes.map((n) => n.domain).filter((d) => d !== "" && d !== "ai.onnx"),
  );
  const opsetImports: OpsetImport[] = [{ domain: "", version: OPSET_VERSION }];
  for (const domain of [...domains].sort()) opsetImports.push({ domain, version: 1 });
  return {
    graph,
    irVersion: IR_VERSION,
    opsetImports,
    producerName: "dramatis",
    producerVersion: "0.1.0",
    docString: options.docString,
    metadata: { ...(options.metadata ?? {}) },
  };
}

/**
 * Bytes per element of a dtype.
 *
 * @example
 * ```ts
 * import { dtypeSize } from "./ir.ts";
 * console.log(dtypeSize("float16")); // 2
 * ```
 */
export function dtypeSize(dtype: DType): number {
  switch (dtype) {
    case "float64":
    case "int64":
      return 8;
    case "float32":
    case "int32":
      return 4;
    case "float16":
    case "bfloat16":
      return 2;
    default:
      return 1;
  }
}

/**
 * True for the floating-point dtypes.
 *
 * @example
 * ```ts
 * import { isFloat } from "./ir.ts";
 * console.log(isFloat("int64")); // false
 * ```
 */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64" || dtype === "float16" || dtype === "bfloat16";
}

/**
 * Number of elements of a fully numeric shape.
 *
 * @example
 * ```ts
 * import { numElements } from "./ir.ts";
 * console.log(numElements([2, 3, 4])); // 24
 * ```
 */
export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * True when `data` is lazily produced.
 *
 * @example
 * ```ts
 * import { isLazy } from "./ir.ts";
 * console.log(isLazy(new Float32Array(2))); // false
 * ```
 */
export function isLazy(data: TypedData | LazyData): data is LazyData {
  return !ArrayBuffer.isView(data);
}

/**
 * Formats a shape for messages, e.g. `[batch_size, 4, 8]`.
 *
 * @example
 * ```ts
 * import { formatShape } from "./ir.ts";
 * console.log(formatShape(["batch_size", 4])); // "[batch_size, 4]"
 * ```
 */
export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * ONNX `TensorProto.DataType` codes of each dtype.
 *
 * @example
 * ```ts
 * import { ONNX_DTYPE_CODE } from "./ir.ts";
 * console.log(ONNX_DTYPE_CODE.float32); // 1
 * ```
 */
export const ONNX_DTYPE_CODE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
};

/**
 * The dtype of an ONNX `TensorProto.DataType` code.
 *
 * @example
 * ```ts
 * import { dtypeFromCode } from "./ir.ts";
 * console.log(dtypeFromCode(7)); // "int64"
 * ```
 */
export function dtypeFromCode(code: number): DType {
  for (const [dtype, c] of Object.entries(ONNX_DTYPE_CODE)) if (c === code) return dtype as DType;
  throw new RangeError(
    `ONNX data type code ${code} is not supported; Dramatis handles ${
      DTYPES.map((d) => `${d}=${ONNX_DTYPE_CODE[d]}`).join(", ")
    }`,
  );
}
