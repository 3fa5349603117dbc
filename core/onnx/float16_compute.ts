/**
 * Rewrites a float32 inference graph to compute in float16 (what GPU execution providers run
 * fastest and what halves a model's device memory) while keeping its interface float32: float32
 * graph inputs are cast to float16 where they enter, float32 outputs are cast back where they
 * leave, float32 initializers and constants become float16 (values beyond float16's range are
 * clamped to ±65504, so a "lowest float" attention mask stays finite), and `Cast(to=float32)`
 * becomes `Cast(to=float16)`. A float16 initializer that was cast to float32 for a float32 graph
 * (float16 weight storage) is then used directly.
 *
 * Integer and boolean values are untouched. Operators whose numerics need more than float16
 * (RMSNorm's mean of squares) are expected to accumulate in float32 internally, as onnxruntime's
 * `SimplifiedLayerNormalization` (stash_type 1) and the GPU providers' softmax and matmul do.
 * Graphs that compute rotary angles from integer positions in the graph lose precision at long
 * positions; use precomputed cos/sin tables (fused decoder graphs) instead.
 *
 * @module
 */

import { withCode } from "../errors.ts";
import type { Attribute, Graph, LazyData, Node, TensorProtoData, TypedData } from "./ir.ts";
import { float32ToFloat16Bits } from "./float16.ts";

const FLOAT32 = 1;
const FLOAT16 = 10;
const HALF_MAX = 65504;

/** Float16 bits of float32 values, clamped to the finite float16 range (NaN stays NaN). */
function toHalf(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = float32ToFloat16Bits(v > HALF_MAX ? HALF_MAX : v < -HALF_MAX ? -HALF_MAX : v);
  }
  return out;
}

/** Float32 values of initializer data (a Float32Array or its little-endian bytes). */
function float32Of(data: TypedData, name: string): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Uint8Array && data.byteLength % 4 === 0) {
    const copy = data.slice();
    return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  }
  throw withCode(
    new TypeError(
      `float32 initializer "${name}" holds a ${data.constructor.name}; expected Float32Array or bytes`,
    ),
    "E_GRAPH",
  );
}

function halfTensor(t: TensorProtoData): TensorProtoData {
  if (t.dtype !== "float32") return t;
  const data = t.data;
  if (ArrayBuffer.isView(data)) {
    return { ...t, dtype: "float16", data: toHalf(float32Of(data as TypedData, t.name)) };
  }
  const lazy = data as LazyData;
  return {
    ...t,
    dtype: "float16",
    data: {
      byteLength: lazy.byteLength / 2,
      read: () => toHalf(float32Of(lazy.read(), t.name)),
    },
  };
}

function halfAttributes(node: Node): Record<string, Attribute> {
  const out: Record<string, Attribute> = {};
  for (const [key, a] of Object.entries(node.attributes)) {
    if (node.opType === "Cast" && key === "to" && a.type === "int" && a.value === FLOAT32) {
      out[key] = { type: "int", value: FLOAT16 };
    } else if (a.type === "tensor") {
      out[key] = { type: "tensor", value: halfTensor(a.value) };
    } else {
      out[key] = a;
    }
  }
  return out;
}

/**
 * The float16-compute version of a float32 graph with the same inputs and outputs (see the
 * module documentation). The input graph is not changed; lazy initializers stay lazy.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "./builder.ts";
 * import { toFloat16Compute } from "./float16_compute.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", [2]);
 * b.output("y", "float32", [2], b.op1("Mul", [x, b.constant([0.5, 2], [2])]));
 * const g = toFloat16Compute(b.graph());
 * console.log(g.inputs[0].dtype, g.initializers[0].dtype); // float32 float16
 * ```
 */
export function toFloat16Compute(graph: Graph): Graph {
  if (
    graph.initializers.some((t) => t.dtype === "float64") ||
    graph.inputs.some((v) => v.dtype === "float64")
  ) {
    throw withCode(
      new TypeError("float16 compute converts float32 graphs; this one has float64 values"),
      "E_GRAPH",
    );
  }
  const halfInits = new Set(
    graph.initializers.filter((t) => t.dtype === "float32" || t.dtype === "float16").map((t) =>
      t.name
    ),
  );
  // Names as the rewritten nodes read them: float32 inputs through their cast, and casts of
  // float16 initializers (now no-ops) by the initializer itself.
  const rename = new Map<string, string>();
  const taken = new Set<string>([
    ...graph.inputs.map((v) => v.name),
    ...graph.outputs.map((v) => v.name),
    ...graph.initializers.map((t) => t.name),
    ...graph.nodes.flatMap((n) => [...n.inputs, ...n.outputs]),
  ]);
  const fresh = (base: string) => {
    let name = `${base}.f16`;
    for (let k = 1; taken.has(name); k++) name = `${base}.f16_${k}`;
    taken.add(name);
    return name;
  };
  const entry: Node[] = [];
  for (const v of graph.inputs) {
    if (v.dtype !== "float32") continue;
    const half = fresh(v.name);
    rename.set(v.name, half);
    entry.push({
      name: `${half}/cast`,
      opType: "Cast",
      domain: "",
      inputs: [v.name],
      outputs: [half],
      attributes: { to: { type: "int", value: FLOAT16 } },
    });
  }
  const outputs = new Map(
    graph.outputs.filter((v) => v.dtype === "float32").map((v) => [v.name, fresh(v.name)]),
  );
  const nodes: Node[] = [...entry];
  for (const n of graph.nodes) {
    const inputs = n.inputs.map((x) => rename.get(x) ?? x);
    if (
      n.opType === "Cast" && n.domain === "" && halfInits.has(inputs[0]) &&
      n.attributes.to?.type === "int" && n.attributes.to.value === FLOAT32 &&
      !outputs.has(n.outputs[0])
    ) {
      rename.set(n.outputs[0], inputs[0]);
      continue;
    }
    nodes.push({
      ...n,
      inputs,
      outputs: n.outputs.map((y) => outputs.get(y) ?? y),
      attributes: halfAttributes(n),
    });
  }
  for (const [name, half] of outputs) {
    nodes.push({
      name: `${half}/cast`,
      opType: "Cast",
      domain: "",
      inputs: [rename.get(half) ?? half],
      outputs: [name],
      attributes: { to: { type: "int", value: FLOAT32 } },
    });
  }
  const produced = new Set(graph.nodes.flatMap((n) => n.outputs));
  for (const name of outputs.keys()) {
    if (!produced.has(name)) {
      throw withCode(
        new TypeError(`output "${name}" is not produced by a node; add an Identity first`),
        "E_GRAPH",
      );
    }
  }
  return {
    ...graph,
    nodes,
    initializers: graph.initializers.map(halfTensor),
    valueInfo: graph.valueInfo?.map((v) => v.dtype === "float32" ? { ...v, dtype: "float16" } : v),
  };
}
