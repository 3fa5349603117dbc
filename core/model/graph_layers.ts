/**
 * Graph fragments of a Llama-family decoder, from standard ONNX ops only (the training graph is
 * differentiated op by op): decomposed RMSNorm, linear layers with adapter hooks, rotary
 * embeddings, grouped-query attention with an explicit additive mask, SwiGLU.
 *
 * @module
 */

import type { Adapter, LinearHook } from "../contracts/adapter.ts";
import { PluginError, withCode } from "../errors.ts";
import type { GraphBuilder } from "../onnx/builder.ts";
import type { LazyData } from "../onnx/ir.ts";

/** What the fragments share while one decoder is emitted. */
export interface LayerContext {
  b: GraphBuilder;
  /** Adapters with the hook names each one targets. */
  adapters: { adapter: Adapter; targets: Set<string> }[];
}

/**
 * A float weight as an initializer of the builder's float type (converted lazily for float64).
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { floatWeight } from "./graph_layers.ts";
 * const b = new GraphBuilder({ floatType: "float64" });
 * console.log(floatWeight(b, "model.norm.weight", [2], new Float32Array([1, 1]))); // "model.norm.weight"
 * ```
 */
export function floatWeight(
  b: GraphBuilder,
  name: string,
  shape: number[],
  data: Float32Array,
): string {
  if (b.floatType === "float32") return b.initializer(name, "float32", shape, data);
  return b.initializer(
    name,
    "float64",
    shape,
    lazy(data.length * 8, () => Float64Array.from(data)),
  );
}

function lazy(byteLength: number, read: () => Float32Array | Float64Array): LazyData {
  return { byteLength, read };
}

/**
 * An HF `[out, in]` linear weight stored transposed as `[in, out]`, so the layer is a plain
 * MatMul. The transposed copy is made only when the model is written.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { transposedWeight } from "./graph_layers.ts";
 * const b = new GraphBuilder();
 * transposedWeight(b, "q_t", [3, 2], new Float32Array(6)); // stored as [2, 3]
 * ```
 */
export function transposedWeight(
  b: GraphBuilder,
  name: string,
  shape: number[],
  data: Float32Array,
): string {
  const [rows, cols] = shape;
  const f64 = b.floatType === "float64";
  return b.initializer(
    name,
    b.floatType,
    [cols, rows],
    lazy(rows * cols * (f64 ? 8 : 4), () => {
      const out = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        const src = r * cols;
        for (let c = 0; c < cols; c++) out[c * rows + r] = data[src + c];
      }
      return out;
    }),
  );
}

/**
 * `x / sqrt(mean(x², -1) + eps) * weight`, over the last axis.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { rmsNorm } from "./graph_layers.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", ["n", 4]);
 * const y = rmsNorm({ b, adapters: [] }, x, b.constant([1, 1, 1, 1], [4]), 1e-6);
 * ```
 */
export function rmsNorm(ctx: LayerContext, x: string, weight: string, eps: number): string {
  const { b } = ctx;
  const axes = b.constantInt([-1], [1]);
  const ms = b.op1("ReduceMean", [b.op1("Mul", [x, x]), axes], { keepdims: 1 });
  const rms = b.op1("Sqrt", [b.op1("Add", [ms, b.constant([eps], [])])]);
  return b.op1("Mul", [b.op1("Div", [x, rms]), weight]);
}

/**
 * `x @ Wᵀ` for a weight held in the HF `[out, in]` layout, `x` of any rank: Gemm (transB) is
 * 2-D, so the leading dims are flattened and restored around it.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { productTransB } from "./graph_layers.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", ["b", "s", 4]);
 * const y = productTransB(b, x, b.constant(new Float32Array(8), [2, 4]), 4, 2); // [b, s, 2]
 * ```
 */
export function productTransB(
  b: GraphBuilder,
  x: string,
  weight: string,
  inFeatures: number,
  outFeatures: number,
): string {
  const flat = b.op1("Reshape", [x, b.constantInt([-1, inFeatures], [2])]);
  return withLeadingAxes(b, x, b.op1("Gemm", [flat, weight], { transB: 1 }), outFeatures);
}

/**
 * `y` (one row of `outFeatures` per row of `x`, in any shape) reshaped to `x`'s leading axes and
 * `outFeatures`: what a product over `x` flattened to rows gives back.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { withLeadingAxes } from "./graph_layers.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", ["b", "s", 4]);
 * const rows = b.op1("Reshape", [x, b.constantInt([-1, 4], [2])]);
 * const y = withLeadingAxes(b, x, rows, 4); // [b, s, 4]
 * ```
 */
export function withLeadingAxes(
  b: GraphBuilder,
  x: string,
  y: string,
  outFeatures: number,
): string {
  const lead = b.op1("Shape", [x], { end: -1 });
  return b.op1("Reshape", [
    y,
    b.op1("Concat", [lead, b.constantInt([outFeatures], [1])], { axis: 0 }),
  ]);
}

/**
 * `x @ W (+ bias)` plus the delta of every adapter that targets this hook.
 * `weight` is an `[in, out]` value, or `[out, in]` with `hfLayout: true` (a tied embedding used
 * as the lm_head), which goes through Gemm(transB) so the table is not copied, or a function that
 * emits `x @ W` itself (quantized weights, float weights kept `[out, in]`).
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { linear } from "./graph_layers.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", ["b", "s", 4]);
 * const hook = { name: "layers.0.mlp.up_proj", layer: 0, inFeatures: 4, outFeatures: 2 };
 * const y = linear({ b, adapters: [] }, hook, x, b.constant(new Float32Array(8), [4, 2]));
 * ```
 */
export function linear(
  ctx: LayerContext,
  hook: LinearHook,
  x: string,
  weight: string | ((x: string) => string),
  options: { bias?: string; hfLayout?: boolean } = {},
): string {
  const { b } = ctx;
  let y: string;
  if (typeof weight === "function") {
    // A stored-format product (e.g. MatMulNBits over quantized weights), see graph_quant.ts.
    y = weight(x);
  } else if (options.hfLayout) {
    y = productTransB(b, x, weight, hook.inFeatures, hook.outFeatures);
  } else {
    y = b.op1("MatMul", [x, weight]);
  }
  if (options.bias) y = b.op1("Add", [y, options.bias]);
  for (const { adapter, targets } of ctx.adapters) {
    if (!targets.has(hook.name)) continue;
    let delta: string;
    try {
      delta = adapter.emit(hook, x, b);
    } catch (error) {
      throw new PluginError(
        adapter.kind,
        "emit",
        "E_PLUGIN_HOOK",
        `adapter failed at hook ${hook.name}: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    }
    if (typeof delta !== "string" || !b.has(delta)) {
      throw new PluginError(
        adapter.kind,
        "emit",
        "E_PLUGIN_HOOK",
        `emit() at ${hook.name} returned ${
          JSON.stringify(delta)
        }, which is not a value of the graph; return the name of the delta tensor`,
      );
    }
    y = b.op1("Add", [y, delta]);
  }
  return y;
}

/**
 * Rotary tables: `cos` and signed `sin` of shape `[B, 1, S, D]` for the given positions.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { rotaryTables } from "./graph_layers.ts";
 * const b = new GraphBuilder();
 * const pos = b.input("position_ids", "int64", ["b", "s"]);
 * const { cos, sin } = rotaryTables({ b, adapters: [] }, pos, new Float64Array([1, 0.01]));
 * ```
 */
export function rotaryTables(
  ctx: LayerContext,
  positionIds: string,
  invFreq: Float64Array,
): { cos: string; sin: string } {
  const { b } = ctx;
  const pos = b.op1("Unsqueeze", [
    b.op1("Cast", [positionIds], { to: b.floatType }),
    b.constantInt([-1], [1]),
  ]);
  const freqs = b.op1("Mul", [pos, b.constant(invFreq, [invFreq.length])]);
  const c = b.op1("Cos", [freqs]);
  const s = b.op1("Sin", [freqs]);
  // rotate_half(x) = [-x2, x1]; with x_sw = [x2, x1] it is x_sw * [-1, 1], folded into sin.
  const cos = b.op1("Concat", [c, c], { axis: -1 });
  const sin = b.op1("Concat", [b.op1("Neg", [s]), s], { axis: -1 });
  const head = b.constantInt([1], [1]);
  return { cos: b.op1("Unsqueeze", [cos, head]), sin: b.op1("Unsqueeze", [sin, head]) };
}

/**
 * Applies rotary embeddings to `[B, heads, S, D]`: `x·cos + swap_halves(x)·sin`.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { applyRotary, rotaryTables } from "./graph_layers.ts";
 * const b = new GraphBuilder();
 * const ctx = { b, adapters: [] };
 * const tables = rotaryTables(ctx, b.input("p", "int64", ["b", "s"]), new Float64Array([1, 0.01]));
 * const q = applyRotary(ctx, b.input("q", "float32", ["b", 2, "s", 4]), tables, 4);
 * ```
 */
export function applyRotary(
  ctx: LayerContext,
  x: string,
  tables: { cos: string; sin: string },
  headDim: number,
): string {
  const { b } = ctx;
  const half = headDim / 2;
  const axis = b.constantInt([-1], [1]);
  const x1 = b.op1("Slice", [x, b.constantInt([0], [1]), b.constantInt([half], [1]), axis]);
  const x2 = b.op1("Slice", [x, b.constantInt([half], [1]), b.constantInt([headDim], [1]), axis]);
  const swapped = b.op1("Concat", [x2, x1], { axis: -1 });
  return b.op1("Add", [b.op1("Mul", [x, tables.cos]), b.op1("Mul", [swapped, tables.sin])]);
}

/**
 * The additive attention bias `[B, 1, S, T]`: 0 where query i (at index T-S+i of the total
 * sequence) may see key j (j ≤ T-S+i and attention_mask[j] = 1), a large finite negative elsewhere
 * (finite, so fully masked padding rows give a uniform softmax rather than NaN).
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { attentionBias } from "./graph_layers.ts";
 * const b = new GraphBuilder();
 * const ids = b.input("input_ids", "int64", ["b", "s"]);
 * const mask = b.input("attention_mask", "int64", ["b", "t"]);
 * const bias = attentionBias({ b, adapters: [] }, ids, mask, -1e9); // [b, 1, s, t]
 * ```
 */
export function attentionBias(
  ctx: LayerContext,
  inputIds: string,
  attentionMask: string,
  maskValue: number,
): string {
  const { b } = ctx;
  const squeeze0 = b.constantInt([0], [1]);
  const total = b.op1("Squeeze", [b.op1("Shape", [attentionMask], { start: 1, end: 2 }), squeeze0]);
  const seq = b.op1("Squeeze", [b.op1("Shape", [inputIds], { start: 1, end: 2 }), squeeze0]);
  const zero = b.constantInt([0], []);
  const one = b.constantInt([1], []);
  const qIdx = b.op1("Add", [b.op1("Range", [zero, seq, one]), b.op1("Sub", [total, seq])]);
  const kIdx = b.op1("Range", [zero, total, one]);
  const causal = b.op1("LessOrEqual", [
    b.op1("Unsqueeze", [kIdx, b.constantInt([0], [1])]),
    b.op1("Unsqueeze", [qIdx, b.constantInt([1], [1])]),
  ]);
  const keep = b.op1("Cast", [b.op1("Unsqueeze", [attentionMask, b.constantInt([1, 2], [2])])], {
    to: "bool",
  });
  const allowed = b.op1("And", [causal, keep]);
  return b.op1("Where", [allowed, b.constant([0], []), b.constant([maskValue], [])]);
}

/**
 * Checks head counts early so a bad config fails before any graph is built.
 *
 * @example
 * ```ts
 * import { checkHeads } from "./graph_layers.ts";
 * console.log(checkHeads(8, 2)); // 4 query heads per kv head
 * ```
 */
export function checkHeads(numHeads: number, numKvHeads: number): number {
  if (!Number.isInteger(numHeads / numKvHeads)) {
    throw withCode(
      new RangeError(
        `numHeads ${numHeads} is not a multiple of numKvHeads ${numKvHeads}; grouped-query attention needs whole groups`,
      ),
      "E_MODEL_ARCH",
    );
  }
  return numHeads / numKvHeads;
}
