/**
 * The graph builder: emits ONNX nodes into the IR with early validation of op names, attribute
 * kinds and value names. It structurally implements {@link AdapterGraphOps}, so adapters emit their
 * fragments through it.
 *
 * @module
 */

import type { AdapterDType, AdapterGraphOps } from "../contracts/adapter.ts";
import { withCode } from "../errors.ts";
import {
  type Attribute,
  type AttributeType,
  type DType,
  DTYPES,
  type Graph,
  type LazyData,
  type Node,
  numElements,
  ONNX_DTYPE_CODE,
  type Shape,
  type TensorProtoData,
  type TypedData,
  type ValueInfo,
} from "./ir.ts";
import { OP_SPECS } from "./op_schema.ts";

/** Options of {@link GraphBuilder}. */
export interface GraphBuilderOptions {
  /** Graph name. Default `"dramatis"`. */
  name?: string;
  /**
   * Float type of `constant()`, `parameter()` and float32 `runtimeInput()`s. `float64` builds a
   * double-precision graph (gradient checks) without changing adapter code. Default `float32`.
   */
  floatType?: "float32" | "float64";
  /**
   * Values of adapter parameters to bake into the graph. A {@link GraphBuilder.parameter} whose
   * name is a key here becomes an initializer holding a copy of these values (written as external
   * data like any weight) instead of a graph input, so inference does not re-send it on every run.
   * Parameters not listed stay inputs. Training graphs leave this unset. Default: none.
   */
  parameterValues?: ReadonlyMap<string, Float32Array | Float64Array>;
}

/** Extra options of {@link GraphBuilder.op} beyond the adapter contract. */
export interface OpOptions {
  outputs?: number;
  domain?: string;
  /** Explicit output value names (must be unused). */
  outputNames?: string[];
  /** Node name; default derived from the first output. */
  name?: string;
}

function graphError<E extends Error>(err: E): E {
  return withCode(err, "E_GRAPH");
}

/**
 * Builds a {@link Graph} node by node.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "./builder.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", ["batch", 4]);
 * const [y] = b.op("Softmax", [x], { axis: -1 });
 * b.output("y", "float32", ["batch", 4], y);
 * console.log(b.graph().nodes.length); // 2 (Softmax + Identity to the output name)
 * ```
 */
export class GraphBuilder implements AdapterGraphOps {
  #name: string;
  #floatType: "float32" | "float64";
  #nodes: Node[] = [];
  #inputs: ValueInfo[] = [];
  #outputs: ValueInfo[] = [];
  #initializers: TensorProtoData[] = [];
  #used = new Set<string>();
  #counters = new Map<string, number>();
  #params = new Map<string, ValueInfo>();
  #baked = new Map<string, ValueInfo>();
  #values: ReadonlyMap<string, Float32Array | Float64Array>;
  #runtime = new Map<string, ValueInfo>();
  #scope: string[] = [];

  constructor(options: GraphBuilderOptions = {}) {
    this.#name = options.name ?? "dramatis";
    const ft = options.floatType ?? "float32";
    if (ft !== "float32" && ft !== "float64") {
      throw graphError(
        new TypeError(`floatType is ${JSON.stringify(ft)}; use "float32" or "float64"`),
      );
    }
    this.#floatType = ft;
    const values = options.parameterValues ?? new Map();
    if (!(values instanceof Map)) {
      throw graphError(
        new TypeError(
          `parameterValues is ${String(values)}; pass a Map from parameter name to Float32Array`,
        ),
      );
    }
    this.#values = values;
  }

  /** The float type of constants and parameters. */
  get floatType(): "float32" | "float64" {
    return this.#floatType;
  }

  /** True when a value of that name exists. */
  has(name: string): boolean {
    return this.#used.has(name);
  }

  /** A new unique value name starting with the current scope and `prefix`. */
  fresh(prefix: string): string {
    const base = [...this.#scope, prefix].join("/");
    let n = this.#counters.get(base) ?? 0;
    let name: string;
    do name = `${base}_${n++}`; while (this.#used.has(name));
    this.#counters.set(base, n);
    return name;
  }

  /** Runs `fn` with `prefix` added to generated value names (debugging aid). */
  scoped<T>(prefix: string, fn: () => T): T {
    this.#scope.push(prefix);
    try {
      return fn();
    } finally {
      this.#scope.pop();
    }
  }

  #claim(name: string, what: string): string {
    if (typeof name !== "string" || name === "") {
      throw graphError(
        new TypeError(`${what} name is ${JSON.stringify(name)}; pass a non-empty string`),
      );
    }
    if (this.#used.has(name)) {
      throw graphError(
        new RangeError(`${what} name "${name}" is already used in the graph; pick another name`),
      );
    }
    this.#used.add(name);
    return name;
  }

  /** Emits one node and returns its output names. */
  op(
    opType: string,
    inputs: string[],
    attributes: Record<string, unknown> = {},
    options: OpOptions = {},
  ): string[] {
    const domain = options.domain ?? "";
    const isDefault = domain === "" || domain === "ai.onnx";
    const spec = isDefault ? OP_SPECS[opType] : undefined;
    if (isDefault && spec === undefined) {
      throw graphError(
        new TypeError(
          `op "${opType}" is not in the builder's operator table; use one of ${
            Object.keys(OP_SPECS).sort().join(", ")
          } or pass options.domain for a custom-domain op`,
        ),
      );
    }
    if (!Array.isArray(inputs)) {
      throw graphError(
        new TypeError(`${opType} inputs is ${String(inputs)}; pass an array of value names`),
      );
    }
    for (const v of inputs) {
      if (v !== "" && !this.#used.has(v)) {
        throw graphError(
          new RangeError(`${opType} input "${v}" is not a value of this graph; create it first`),
        );
      }
    }
    const outCount = options.outputNames?.length ?? options.outputs ?? spec?.outputs[0] ?? 1;
    if (spec) {
      const [lo, hi] = spec.inputs;
      if (inputs.length < lo || inputs.length > hi) {
        throw graphError(
          new RangeError(`${opType} got ${inputs.length} inputs; it takes ${lo}..${hi}`),
        );
      }
      const [olo, ohi] = spec.outputs;
      if (outCount < olo || outCount > ohi) {
        throw graphError(
          new RangeError(`${opType} asked for ${outCount} outputs; it has ${olo}..${ohi}`),
        );
      }
    }
    const attrs = normalizeAttributes(opType, attributes, spec?.attributes);
    const outputs = options.outputNames
      ? options.outputNames.map((n) => this.#claim(n, `${opType} output`))
      : Array.from({ length: outCount }, () => this.#claim(this.fresh(opType), "output"));
    this.#nodes.push({
      name: options.name ?? `${outputs[0]}_node`,
      opType,
      domain: isDefault ? "" : domain,
      inputs: [...inputs],
      outputs,
      attributes: attrs,
    });
    return outputs;
  }

  /** Emits a single-output node and returns its output name. */
  op1(
    opType: string,
    inputs: string[],
    attributes: Record<string, unknown> = {},
    options: OpOptions = {},
  ): string {
    return this.op(opType, inputs, attributes, { ...options, outputs: 1 })[0];
  }

  /** A float constant (in the builder's float type). */
  constant(data: Float32Array | Float64Array | number[], shape: number[]): string {
    const values = this.#floatType === "float64"
      ? Float64Array.from(data)
      : Float32Array.from(data);
    return this.initializer(this.fresh("const"), this.#floatType, shape, values);
  }

  /** An int64 constant. */
  constantInt(data: number[] | BigInt64Array, shape: number[]): string {
    const values = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => {
      if (!Number.isInteger(v)) {
        throw graphError(new TypeError(`constantInt value ${v} is not a whole number`));
      }
      return BigInt(v);
    });
    return this.initializer(this.fresh("const"), "int64", shape, values);
  }

  /** A constant tensor of any dtype. */
  constantOf(dtype: DType, data: TypedData, shape: number[]): string {
    return this.initializer(this.fresh("const"), dtype, shape, data);
  }

  /**
   * An adapter parameter: a float graph input fed at run time, or, when its name is among the
   * builder's `parameterValues`, an initializer baked from those values. Same name twice → same
   * value.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./builder.ts";
   * const fed = new GraphBuilder();
   * fed.parameter("w", [2]); // a graph input
   * const baked = new GraphBuilder({ parameterValues: new Map([["w", new Float32Array([1, 2])]]) });
   * baked.parameter("w", [2]); // an initializer holding [1, 2]
   * console.log(fed.graph().inputs.length, baked.graph().initializers.length); // 1 1
   * ```
   */
  parameter(name: string, shape: number[]): string {
    const prev = this.#params.get(name) ?? this.#baked.get(name);
    if (prev) {
      if (prev.shape.join(",") !== shape.join(",")) {
        throw graphError(
          new RangeError(
            `parameter "${name}" was declared with shape [${prev.shape}] and now [${shape}]; use one shape`,
          ),
        );
      }
      return name;
    }
    checkShape(shape, `parameter "${name}"`, false);
    const value = this.#values.get(name);
    if (value === undefined) {
      this.input(name, this.#floatType, shape);
      this.#params.set(name, { name, dtype: this.#floatType, shape: [...shape] });
      return name;
    }
    if (!(value instanceof Float32Array || value instanceof Float64Array)) {
      throw graphError(
        new TypeError(
          `parameterValues has a ${
            (value as object)?.constructor?.name ?? typeof value
          } for parameter "${name}"; pass a Float32Array or Float64Array`,
        ),
      );
    }
    const n = numElements(shape);
    if (value.length !== n) {
      throw graphError(
        new RangeError(
          `parameterValues holds ${value.length} values for parameter "${name}"; its shape [${shape}] needs ${n}`,
        ),
      );
    }
    // A copy: adapters hand out live arrays a trainer may keep updating after the graph is built.
    const data = this.#floatType === "float64" ? new Float64Array(value) : new Float32Array(value);
    this.initializer(name, this.#floatType, shape, data);
    this.#baked.set(name, { name, dtype: this.#floatType, shape: [...shape] });
    return name;
  }

  /** A runtime input (an identity mask, steering state…). Same name twice → same value. */
  runtimeInput(name: string, dtype: AdapterDType | DType, shape: (number | string)[]): string {
    const real: DType = dtype === "float32" ? this.#floatType : dtype;
    const prev = this.#runtime.get(name);
    if (prev) {
      if (prev.dtype !== real || prev.shape.join(",") !== shape.join(",")) {
        throw graphError(
          new RangeError(
            `runtime input "${name}" was declared as ${prev.dtype}[${prev.shape}] and now ${real}[${shape}]; declare it once`,
          ),
        );
      }
      return name;
    }
    this.input(name, real, shape);
    this.#runtime.set(name, { name, dtype: real, shape: [...shape] });
    return name;
  }

  /** Declares a graph input. */
  input(name: string, dtype: DType, shape: Shape): string {
    checkDtype(dtype, `input "${name}"`);
    checkShape(shape, `input "${name}"`, true);
    this.#claim(name, "input");
    this.#inputs.push({ name, dtype, shape: [...shape] });
    return name;
  }

  /**
   * Declares a graph output. When `value` is given and differs from `name`, an Identity node
   * gives the value its public name.
   */
  output(name: string, dtype: DType, shape: Shape, value?: string): string {
    checkDtype(dtype, `output "${name}"`);
    checkShape(shape, `output "${name}"`, true);
    if (value !== undefined && value !== name) {
      this.op("Identity", [value], {}, { outputNames: [name] });
    } else if (!this.#used.has(name)) {
      throw graphError(
        new RangeError(`output "${name}" names no value of this graph; pass the value to expose`),
      );
    }
    if (this.#outputs.some((o) => o.name === name)) {
      throw graphError(new RangeError(`output "${name}" is declared twice`));
    }
    this.#outputs.push({ name, dtype, shape: [...shape] });
    return name;
  }

  /** Adds a named constant tensor (a weight). */
  initializer(name: string, dtype: DType, shape: number[], data: TypedData | LazyData): string {
    checkDtype(dtype, `initializer "${name}"`);
    checkShape(shape, `initializer "${name}"`, false);
    checkData(name, dtype, shape, data);
    this.#claim(name, "initializer");
    this.#initializers.push({ name, dtype, shape: [...shape], data });
    return name;
  }

  /** Parameters declared as graph inputs so far, in declaration order (baked ones excluded). */
  parameters(): ValueInfo[] {
    return [...this.#params.values()].map((p) => ({ ...p, shape: [...p.shape] }));
  }

  /** Parameters baked into initializers from `parameterValues` so far, in declaration order. */
  bakedParameters(): ValueInfo[] {
    return [...this.#baked.values()].map((p) => ({ ...p, shape: [...p.shape] }));
  }

  /** Runtime inputs declared so far through {@link GraphBuilder.runtimeInput}. */
  runtimeInputs(): ValueInfo[] {
    return [...this.#runtime.values()].map((p) => ({ ...p, shape: [...p.shape] }));
  }

  /** The graph built so far (arrays are copies; tensors are shared). */
  graph(): Graph {
    return {
      name: this.#name,
      nodes: this.#nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] })),
      inputs: this.#inputs.map((v) => ({ ...v, shape: [...v.shape] })),
      outputs: this.#outputs.map((v) => ({ ...v, shape: [...v.shape] })),
      initializers: [...this.#initializers],
    };
  }
}

function checkDtype(dtype: DType, what: string): void {
  if (!DTYPES.includes(dtype)) {
    throw graphError(
      new TypeError(`${what} dtype is ${JSON.stringify(dtype)}; use one of ${DTYPES.join(", ")}`),
    );
  }
}

function checkShape(shape: Shape, what: string, symbolic: boolean): void {
  if (!Array.isArray(shape)) {
    throw graphError(new TypeError(`${what} shape is ${String(shape)}; pass an array of dims`));
  }
  for (const d of shape) {
    const ok = (typeof d === "number" && Number.isInteger(d) && d >= 0) ||
      (symbolic && typeof d === "string" && d !== "");
    if (!ok) {
      throw graphError(
        new TypeError(
          `${what} shape [${shape}] has dim ${JSON.stringify(d)}; use whole numbers >= 0${
            symbolic ? " or non-empty symbolic names" : ""
          }`,
        ),
      );
    }
  }
}

const TYPED_FOR: Record<DType, string> = {
  float32: "Float32Array",
  float64: "Float64Array",
  int64: "BigInt64Array",
  int32: "Int32Array",
  int8: "Int8Array",
  uint8: "Uint8Array",
  bool: "Uint8Array",
  float16: "Uint16Array",
  bfloat16: "Uint16Array",
};

function checkData(name: string, dtype: DType, shape: number[], data: TypedData | LazyData): void {
  const bytes = numElements(shape) *
    (dtype === "float64" || dtype === "int64"
      ? 8
      : dtype === "float32" || dtype === "int32"
      ? 4
      : dtype === "float16" || dtype === "bfloat16"
      ? 2
      : 1);
  if (!ArrayBuffer.isView(data)) {
    if (typeof data?.read !== "function" || data.byteLength !== bytes) {
      throw graphError(
        new RangeError(
          `initializer "${name}" lazy data has byteLength ${data?.byteLength}; ${dtype}[${shape}] needs ${bytes}`,
        ),
      );
    }
    return;
  }
  const ctor = data.constructor.name;
  const raw = ctor === "Uint8Array";
  if (!raw && ctor !== TYPED_FOR[dtype]) {
    throw graphError(
      new TypeError(
        `initializer "${name}" is ${dtype} but its data is a ${ctor}; pass a ${
          TYPED_FOR[dtype]
        } or raw bytes`,
      ),
    );
  }
  if (data.byteLength !== bytes) {
    throw graphError(
      new RangeError(
        `initializer "${name}" has ${data.byteLength} bytes of data; ${dtype}[${shape}] needs ${bytes}`,
      ),
    );
  }
}

function isAttribute(v: unknown): v is Attribute {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) &&
    "type" in v && "value" in v && Object.keys(v).length === 2;
}

function isTensor(v: unknown): v is TensorProtoData {
  return typeof v === "object" && v !== null && "dtype" in v && "shape" in v && "data" in v;
}

function guessType(v: unknown): AttributeType | undefined {
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "string";
  if (isTensor(v)) return "tensor";
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === "string")) return "strings";
    if (v.every((x) => typeof x === "number")) return v.every(Number.isInteger) ? "ints" : "floats";
  }
  return undefined;
}

function normalizeAttributes(
  opType: string,
  raw: Record<string, unknown>,
  spec: Record<string, { type: AttributeType; required?: boolean }> | undefined,
): Record<string, Attribute> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw graphError(new TypeError(`${opType} attributes is ${String(raw)}; pass an object`));
  }
  const out: Record<string, Attribute> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    let type: AttributeType | undefined;
    if (spec) {
      if (!(key in spec)) {
        const known = Object.keys(spec);
        throw graphError(
          new TypeError(
            `${opType} has no attribute "${key}"; ${
              known.length ? `its attributes are ${known.join(", ")}` : "it takes none"
            }`,
          ),
        );
      }
      type = spec[key].type;
    }
    let v: unknown = value;
    if (isAttribute(value)) {
      if (type !== undefined && value.type !== type) {
        throw graphError(
          new TypeError(`${opType}.${key} is a ${value.type} attribute; ONNX declares it ${type}`),
        );
      }
      type = value.type;
      v = value.value;
    }
    if (opType === "Cast" && key === "to" && typeof v === "string") {
      if (!(v in ONNX_DTYPE_CODE)) {
        throw graphError(
          new TypeError(`Cast.to is ${JSON.stringify(v)}; use one of ${DTYPES.join(", ")}`),
        );
      }
      v = ONNX_DTYPE_CODE[v as DType];
    }
    type ??= guessType(v);
    if (type === undefined) {
      throw graphError(
        new TypeError(
          `${opType}.${key} is ${
            String(v)
          }; attributes are numbers, strings, arrays of them or tensors`,
        ),
      );
    }
    out[key] = checkAttribute(opType, key, type, v);
  }
  if (spec) {
    for (const [key, s] of Object.entries(spec)) {
      if (s.required && !(key in out)) {
        throw graphError(new TypeError(`${opType} needs attribute "${key}" (${s.type}); pass it`));
      }
    }
  }
  return out;
}

function checkAttribute(opType: string, key: string, type: AttributeType, v: unknown): Attribute {
  const bad = (want: string) =>
    graphError(new TypeError(`${opType}.${key} is ${JSON.stringify(v)}; it must be ${want}`));
  switch (type) {
    case "int":
      if (typeof v !== "number" || !Number.isInteger(v)) throw bad("a whole number");
      return { type, value: v };
    case "float":
      if (typeof v !== "number" || Number.isNaN(v)) throw bad("a number");
      return { type, value: v };
    case "string":
      if (typeof v !== "string") throw bad("a string");
      return { type, value: v };
    case "ints":
      if (!Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isInteger(x))) {
        throw bad("an array of whole numbers");
      }
      return { type, value: [...v] };
    case "floats":
      if (!Array.isArray(v) || !v.every((x) => typeof x === "number")) {
        throw bad("an array of numbers");
      }
      return { type, value: [...v] };
    case "strings":
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
        throw bad("an array of strings");
      }
      return { type, value: [...v] };
    case "tensor":
      if (!isTensor(v)) throw bad("a tensor {name, dtype, shape, data}");
      checkData(v.name || key, v.dtype, v.shape, v.data);
      return { type, value: v };
  }
}
