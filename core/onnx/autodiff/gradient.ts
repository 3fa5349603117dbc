/**
 * Reverse-mode automatic differentiation as a graph rewrite: the backward pass is appended to the
 * forward graph as standard ONNX nodes, and `grad.<name>` outputs expose the gradient of the loss
 * with respect to each requested input. One onnxruntime run then yields loss and gradients.
 *
 * @module
 */

import { withCode } from "../../errors.ts";
import type { GraphBuilder } from "../builder.ts";
import { type Graph, isFloat, type Node } from "../ir.ts";
import { inferShapes, type ValueType } from "../shape.ts";
import { ConstantTable, GradContext, gradError } from "./context.ts";
import { reopenGraph } from "./reopen.ts";
import { CUSTOM_GRAD_RULES, GRAD_RULES } from "./rules.ts";

/** Options of {@link buildGradientGraph}. */
export interface GradientOptions {
  /** The value to differentiate (usually a scalar loss; a tensor is seeded with ones). */
  loss: string;
  /** Float graph inputs or initializers to differentiate with respect to. */
  wrt: string[];
  /** Prefix of the gradient outputs. Default `"grad."`. */
  prefix?: string;
}

function usage(message: string): TypeError {
  return withCode(new TypeError(message), "E_GRAD_RULE");
}

/**
 * Appends the backward pass of `loss` to a graph and returns the new graph, whose outputs are the
 * original outputs plus `grad.<w>` for every `w` in `wrt` (same dtype and shape as `w`).
 *
 * Only nodes on a path from a `wrt` value to the loss are differentiated, so frozen weights and
 * branches that do not depend on the trained inputs get no backward nodes. Contributions of a
 * value used several times are summed; broadcast operands get their gradient summed back to
 * their shape (at run time when dims are symbolic). A `wrt` value the loss does not depend on
 * gets a zero gradient. An op without a rule raises an error with code `E_GRAD_RULE` naming the op
 * and the node.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../builder.ts";
 * import { buildGradientGraph } from "./gradient.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", [3]);
 * const loss = b.op1("ReduceSum", [b.op1("Mul", [x, x])], { keepdims: 0 });
 * b.output("loss", "float32", [], loss);
 * const g = buildGradientGraph(b.graph(), { loss: "loss", wrt: ["x"] });
 * console.log(g.outputs.map((o) => o.name)); // ["loss", "grad.x"]
 * ```
 */
export function buildGradientGraph(graph: Graph, options: GradientOptions): Graph {
  const types = inferShapes(graph);
  const floatType = types.get(options.loss)?.dtype === "float64" ? "float64" : "float32";
  const b = reopenGraph(graph, floatType);
  appendGradients(b, graph, types, options);
  return b.graph();
}

/**
 * The rewrite behind {@link buildGradientGraph}, for callers that hold a builder already re-opened
 * on `graph` and want to keep emitting into it. Returns the gradient value of each `wrt` name.
 */
export function appendGradients(
  b: GraphBuilder,
  graph: Graph,
  types: Map<string, ValueType>,
  options: GradientOptions,
): Record<string, string> {
  const { loss, wrt } = options;
  const prefix = options.prefix ?? "grad.";
  const lossType = types.get(loss);
  if (!lossType) {
    throw usage(`loss "${loss}" is not a value of graph "${graph.name}"; pass its name`);
  }
  if (!isFloat(lossType.dtype)) {
    throw usage(`loss "${loss}" has dtype ${lossType.dtype}; differentiate a float value`);
  }
  if (!Array.isArray(wrt) || wrt.length === 0) {
    throw usage(`wrt is ${JSON.stringify(wrt)}; pass the names of the inputs to differentiate`);
  }
  const sources = new Set([
    ...graph.inputs.map((v) => v.name),
    ...graph.initializers.map((t) => t.name),
  ]);
  for (const w of wrt) {
    if (!sources.has(w)) {
      throw usage(`wrt entry "${w}" is not an input or initializer of graph "${graph.name}"`);
    }
    if (!isFloat(types.get(w)!.dtype)) {
      throw usage(
        `wrt entry "${w}" has dtype ${types.get(w)!.dtype}; only float values have gradients`,
      );
    }
    if (b.has(prefix + w)) {
      throw usage(`output "${prefix + w}" already exists; pass another prefix`);
    }
  }
  if (new Set(wrt).size !== wrt.length) throw usage(`wrt lists a name twice: ${wrt.join(", ")}`);

  // Values that depend on a wrt input through float values…
  const fromWrt = new Set(wrt);
  for (const n of graph.nodes) {
    if (!n.inputs.some((v) => fromWrt.has(v))) continue;
    for (const o of n.outputs) if (o && isFloat(types.get(o)?.dtype ?? "int64")) fromWrt.add(o);
  }
  // …and that the loss depends on.
  const toLoss = new Set([loss]);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (n.outputs.some((o) => toLoss.has(o))) { for (const v of n.inputs) if (v) toLoss.add(v); }
  }
  const active = (v: string) => fromWrt.has(v) && toLoss.has(v);

  const contributions = new Map<string, string[]>();
  const total = (v: string): string | undefined => {
    const parts = contributions.get(v);
    if (!parts || parts.length === 0) return undefined;
    let sum = parts[0];
    for (let i = 1; i < parts.length; i++) sum = b.op1("Add", [sum, parts[i]]);
    contributions.set(v, [sum]);
    return sum;
  };
  const consts = new ConstantTable(graph);
  const shapeCache = new Map<string, string>();
  if (active(loss)) {
    const ctx = new GradContext(seedNode(loss), b, types, consts, [], [], shapeCache);
    const one = b.scoped(
      "grad",
      () =>
        lossType.shape.length === 0
          ? ctx.scalar(1, lossType.dtype)
          : ctx.filled(ctx.shapeOf(loss), 1, lossType.dtype),
    );
    contributions.set(loss, [one]);
  }

  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!node.outputs.some((o) => o && active(o))) continue;
    const gradOut = node.outputs.map((o) => (o && active(o) ? total(o) : undefined));
    if (gradOut.every((g) => g === undefined)) continue;
    const isDefault = node.domain === "" || node.domain === "ai.onnx";
    const rule = isDefault
      ? GRAD_RULES[node.opType]
      : CUSTOM_GRAD_RULES[`${node.domain}::${node.opType}`];
    if (!rule) {
      throw gradError(
        node,
        `no gradient rule for op "${node.domain ? node.domain + "::" : ""}${node.opType}"; ` +
          `add one to core/onnx/autodiff/rules.ts or keep the op off the path from [${
            wrt.join(", ")
          }] to the loss`,
      );
    }
    const needs = node.inputs.map((v) => v !== "" && active(v));
    const ctx = new GradContext(node, b, types, consts, gradOut, needs, shapeCache);
    const grads = b.scoped(`grad/${node.opType}`, () => rule(ctx));
    node.inputs.forEach((v, k) => {
      const g = grads[k];
      if (!needs[k] || g === undefined) return;
      const list = contributions.get(v) ?? [];
      list.push(g);
      contributions.set(v, list);
    });
  }

  const result: Record<string, string> = {};
  for (const w of wrt) {
    const t = types.get(w)!;
    let g = total(w);
    if (g === undefined) {
      g = new GradContext(seedNode(w), b, types, consts, [], [], shapeCache).zerosLike(w);
    }
    b.output(prefix + w, t.dtype, t.shape, g);
    result[w] = prefix + w;
  }
  return result;
}

function seedNode(value: string): Node {
  return {
    name: `seed(${value})`,
    opType: "Identity",
    domain: "",
    inputs: [value],
    outputs: [value],
    attributes: {},
  };
}
