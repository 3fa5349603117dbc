/**
 * The operator table: for each default-domain ONNX op the builder knows, its attributes (ONNX
 * names, kinds and spec defaults at opset 18) and how many inputs and outputs it takes. The builder
 * validates against it; shape inference reads defaults from it.
 *
 * @module
 */

import type { Attribute, AttributeType, Node } from "./ir.ts";

/** One attribute: its kind and, when optional, its spec default. */
export interface AttributeSpec {
  type: AttributeType;
  default?: Attribute["value"];
  required?: boolean;
}

/** What the builder checks for one op. */
export interface OpSpec {
  attributes: Record<string, AttributeSpec>;
  /** [min, max] inputs (max Infinity for variadic ops). */
  inputs: [number, number];
  /** [min, max] outputs. */
  outputs: [number, number];
}

const none: Record<string, AttributeSpec> = {};
const unary = (): OpSpec => ({ attributes: none, inputs: [1, 1], outputs: [1, 1] });
const binary = (): OpSpec => ({ attributes: none, inputs: [2, 2], outputs: [1, 1] });
const variadic = (): OpSpec => ({ attributes: none, inputs: [1, Infinity], outputs: [1, 1] });
const reduce = (): OpSpec => ({
  attributes: {
    keepdims: { type: "int", default: 1 },
    noop_with_empty_axes: { type: "int", default: 0 },
  },
  inputs: [1, 2],
  outputs: [1, 1],
});
const loss = (): OpSpec => ({
  attributes: { ignore_index: { type: "int" }, reduction: { type: "string", default: "mean" } },
  inputs: [2, 3],
  outputs: [1, 2],
});

/**
 * Ops with plain elementwise semantics on one input.
 *
 * @example
 * ```ts
 * import { UNARY_OPS } from "./op_schema.ts";
 * console.log(UNARY_OPS.includes("Sigmoid")); // true
 * ```
 */
export const UNARY_OPS = [
  "Identity",
  "Neg",
  "Abs",
  "Exp",
  "Log",
  "Sqrt",
  "Reciprocal",
  "Sigmoid",
  "Tanh",
  "Relu",
  "Cos",
  "Sin",
  "Erf",
  "Floor",
  "Ceil",
  "Sign",
  "Softplus",
  "Not",
] as const;

/**
 * Broadcasting binary ops whose output keeps the input dtype.
 *
 * @example
 * ```ts
 * import { ARITH_OPS } from "./op_schema.ts";
 * console.log(ARITH_OPS); // ["Add", "Sub", "Mul", "Div", "Pow", "Mod"]
 * ```
 */
export const ARITH_OPS = ["Add", "Sub", "Mul", "Div", "Pow", "Mod"] as const;

/**
 * Broadcasting binary ops whose output is bool.
 *
 * @example
 * ```ts
 * import { COMPARE_OPS } from "./op_schema.ts";
 * console.log(COMPARE_OPS.includes("LessOrEqual")); // true
 * ```
 */
export const COMPARE_OPS = [
  "Equal",
  "Less",
  "Greater",
  "LessOrEqual",
  "GreaterOrEqual",
  "And",
  "Or",
  "Xor",
] as const;

/**
 * Reductions that take `axes` as an optional second input (opset 18).
 *
 * @example
 * ```ts
 * import { REDUCE_OPS } from "./op_schema.ts";
 * console.log(REDUCE_OPS[0]); // "ReduceMean"
 * ```
 */
export const REDUCE_OPS = [
  "ReduceMean",
  "ReduceSum",
  "ReduceMax",
  "ReduceMin",
  "ReduceProd",
  "ReduceLogSumExp",
  "ReduceL2",
  "ReduceSumSquare",
] as const;

/**
 * The operator table, keyed by op type (default domain).
 *
 * @example
 * ```ts
 * import { OP_SPECS } from "./op_schema.ts";
 * console.log(OP_SPECS.Softmax.attributes.axis.default); // -1
 * ```
 */
export const OP_SPECS: Readonly<Record<string, OpSpec>> = (() => {
  const t: Record<string, OpSpec> = {};
  for (const op of UNARY_OPS) t[op] = unary();
  for (const op of ARITH_OPS) t[op] = binary();
  for (const op of COMPARE_OPS) t[op] = binary();
  t.Mod.attributes = { fmod: { type: "int", default: 0 } };
  for (const op of ["Max", "Min", "Sum", "Mean"]) t[op] = variadic();
  for (const op of REDUCE_OPS) t[op] = reduce();
  t.MatMul = binary();
  t.Gemm = {
    attributes: {
      alpha: { type: "float", default: 1 },
      beta: { type: "float", default: 1 },
      transA: { type: "int", default: 0 },
      transB: { type: "int", default: 0 },
    },
    inputs: [2, 3],
    outputs: [1, 1],
  };
  t.Reshape = {
    attributes: { allowzero: { type: "int", default: 0 } },
    inputs: [2, 2],
    outputs: [1, 1],
  };
  t.Transpose = { attributes: { perm: { type: "ints" } }, inputs: [1, 1], outputs: [1, 1] };
  t.Concat = {
    attributes: { axis: { type: "int", required: true } },
    inputs: [1, Infinity],
    outputs: [1, 1],
  };
  t.Slice = { attributes: none, inputs: [3, 5], outputs: [1, 1] };
  t.Gather = { attributes: { axis: { type: "int", default: 0 } }, inputs: [2, 2], outputs: [1, 1] };
  t.GatherElements = {
    attributes: { axis: { type: "int", default: 0 } },
    inputs: [2, 2],
    outputs: [1, 1],
  };
  t.GatherND = {
    attributes: { batch_dims: { type: "int", default: 0 } },
    inputs: [2, 2],
    outputs: [1, 1],
  };
  t.ScatterND = {
    attributes: { reduction: { type: "string", default: "none" } },
    inputs: [3, 3],
    outputs: [1, 1],
  };
  t.ScatterElements = {
    attributes: {
      axis: { type: "int", default: 0 },
      reduction: { type: "string", default: "none" },
    },
    inputs: [3, 3],
    outputs: [1, 1],
  };
  t.Unsqueeze = { attributes: none, inputs: [2, 2], outputs: [1, 1] };
  t.Squeeze = { attributes: none, inputs: [1, 2], outputs: [1, 1] };
  t.Softmax = {
    attributes: { axis: { type: "int", default: -1 } },
    inputs: [1, 1],
    outputs: [1, 1],
  };
  t.LogSoftmax = {
    attributes: { axis: { type: "int", default: -1 } },
    inputs: [1, 1],
    outputs: [1, 1],
  };
  t.Cast = { attributes: { to: { type: "int", required: true } }, inputs: [1, 1], outputs: [1, 1] };
  t.Where = { attributes: none, inputs: [3, 3], outputs: [1, 1] };
  t.Expand = binary();
  t.Shape = {
    attributes: { start: { type: "int", default: 0 }, end: { type: "int" } },
    inputs: [1, 1],
    outputs: [1, 1],
  };
  t.Size = unary();
  t.Range = { attributes: none, inputs: [3, 3], outputs: [1, 1] };
  t.ConstantOfShape = {
    attributes: { value: { type: "tensor" } },
    inputs: [1, 1],
    outputs: [1, 1],
  };
  t.Constant = {
    attributes: {
      value: { type: "tensor" },
      value_float: { type: "float" },
      value_floats: { type: "floats" },
      value_int: { type: "int" },
      value_ints: { type: "ints" },
    },
    inputs: [0, 0],
    outputs: [1, 1],
  };
  t.Tile = binary();
  t.Split = {
    attributes: { axis: { type: "int", default: 0 }, num_outputs: { type: "int" } },
    inputs: [1, 2],
    outputs: [1, Infinity],
  };
  t.Flatten = {
    attributes: { axis: { type: "int", default: 1 } },
    inputs: [1, 1],
    outputs: [1, 1],
  };
  t.CumSum = {
    attributes: { exclusive: { type: "int", default: 0 }, reverse: { type: "int", default: 0 } },
    inputs: [2, 2],
    outputs: [1, 1],
  };
  t.Trilu = { attributes: { upper: { type: "int", default: 1 } }, inputs: [1, 2], outputs: [1, 1] };
  t.SoftmaxCrossEntropyLoss = loss();
  t.NegativeLogLikelihoodLoss = { ...loss(), outputs: [1, 1] };
  t.Clip = { attributes: none, inputs: [1, 3], outputs: [1, 1] };
  t.Einsum = {
    attributes: { equation: { type: "string", required: true } },
    inputs: [1, Infinity],
    outputs: [1, 1],
  };
  t.ArgMax = {
    attributes: {
      axis: { type: "int", default: 0 },
      keepdims: { type: "int", default: 1 },
      select_last_index: { type: "int", default: 0 },
    },
    inputs: [1, 1],
    outputs: [1, 1],
  };
  t.LayerNormalization = {
    attributes: {
      axis: { type: "int", default: -1 },
      epsilon: { type: "float", default: 1e-5 },
      stash_type: { type: "int", default: 1 },
    },
    inputs: [2, 3],
    outputs: [1, 3],
  };
  // onnxruntime's fused RMSNorm, registered in the default domain (inference graphs only: the
  // autodiff has no rule for it, training graphs keep the decomposed form).
  t.SimplifiedLayerNormalization = {
    attributes: {
      axis: { type: "int", default: -1 },
      epsilon: { type: "float", default: 1e-5 },
      stash_type: { type: "int", default: 1 },
    },
    inputs: [2, 2],
    outputs: [1, 2],
  };
  return t;
})();

/**
 * Reads an attribute of a node, falling back to the spec default.
 *
 * @example
 * ```ts
 * import { attributeValue } from "./op_schema.ts";
 * const node = { name: "s", opType: "Softmax", domain: "", inputs: ["x"], outputs: ["y"], attributes: {} };
 * console.log(attributeValue(node, "axis")); // -1
 * ```
 */
export function attributeValue(node: Node, name: string): Attribute["value"] | undefined {
  const a = node.attributes[name];
  if (a !== undefined) return a.value;
  if (node.domain !== "" && node.domain !== "ai.onnx") return undefined;
  return OP_SPECS[node.opType]?.attributes[name]?.default;
}
