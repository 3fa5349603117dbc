/**
 * Shape and dtype inference over the IR. Every value of a graph gets a dtype and a shape whose
 * dims are numbers or symbolic names. Small int64 tensors built from shapes (Shape → Gather →
 * Concat → Reshape chains) are tracked by value, so reshapes of symbolic tensors stay exact.
 *
 * @module
 */

import { withCode } from "../errors.ts";
import {
  type Dim,
  type DType,
  dtypeFromCode,
  formatShape,
  type Graph,
  isLazy,
  type Node,
  type Shape,
  type TensorProtoData,
} from "./ir.ts";
import { ARITH_OPS, attributeValue, COMPARE_OPS, REDUCE_OPS, UNARY_OPS } from "./op_schema.ts";
import {
  addDims,
  broadcastShapes,
  divDims,
  mulDims,
  normalizeAxis,
  productDims,
  quotientDim,
  subDims,
} from "./shape_dims.ts";

/** The dtype and shape of one value. */
export interface ValueType {
  dtype: DType;
  shape: Shape;
}

/** Facts known while inferring: types, plus values of small integer tensors. */
interface Ctx {
  types: Map<string, ValueType>;
  values: Map<string, Dim[]>;
  node: Node;
}

type Rule = (ctx: Ctx, inputs: (ValueType | undefined)[]) => ValueType[];

const INT_MAX = 2 ** 62;

function fail(node: Node, message: string): RangeError {
  return withCode(new RangeError(`${node.opType} node "${node.name}": ${message}`), "E_GRAPH");
}

function req(ctx: Ctx, inputs: (ValueType | undefined)[], i: number): ValueType {
  const t = inputs[i];
  if (!t) throw fail(ctx.node, `input ${i} is missing`);
  return t;
}

function intAttr(node: Node, name: string): number | undefined {
  const v = attributeValue(node, name);
  return typeof v === "number" ? v : undefined;
}

/** The tracked value of input i, or undefined when not known statically. */
function valueOf(ctx: Ctx, i: number): Dim[] | undefined {
  const name = ctx.node.inputs[i];
  return name ? ctx.values.get(name) : undefined;
}

function numericValueOf(ctx: Ctx, i: number, what: string): number[] {
  const v = valueOf(ctx, i);
  if (!v || v.some((x) => typeof x !== "number")) {
    throw fail(
      ctx.node,
      `${what} (input ${i} "${ctx.node.inputs[i]}") must be a constant for shape inference`,
    );
  }
  return v as number[];
}

function freshDim(ctx: Ctx, axis: number): string {
  return `${ctx.node.outputs[0]}:${axis}`;
}

function same(ctx: Ctx, inputs: (ValueType | undefined)[]): ValueType[] {
  return [{ ...req(ctx, inputs, 0) }];
}

function broadcastOp(ctx: Ctx, inputs: (ValueType | undefined)[], dtype?: DType): ValueType {
  const shapes = inputs.map((t, i) => (t ? t.shape : req(ctx, inputs, i).shape));
  return {
    dtype: dtype ?? req(ctx, inputs, 0).dtype,
    shape: broadcastShapes(shapes, `${ctx.node.opType} "${ctx.node.name}"`),
  };
}

function matmulShape(ctx: Ctx, a: Shape, b: Shape): Shape {
  if (a.length === 0 || b.length === 0) throw fail(ctx.node, "MatMul operands must have rank >= 1");
  const A = a.length === 1 ? [1, a[0]] : a;
  const B = b.length === 1 ? [b[0], 1] : b;
  const k1 = A[A.length - 1];
  const k2 = B[B.length - 2];
  if (typeof k1 === "number" && typeof k2 === "number" && k1 !== k2) {
    throw fail(
      ctx.node,
      `inner dims differ: ${formatShape(a)} @ ${formatShape(b)}; fix the contraction dim`,
    );
  }
  const batch = broadcastShapes([A.slice(0, -2), B.slice(0, -2)], `MatMul "${ctx.node.name}"`);
  const out = [...batch, A[A.length - 2], B[B.length - 1]];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function elementwiseValues(ctx: Ctx, f: (a: Dim, b: Dim) => Dim): Dim[] | undefined {
  const a = valueOf(ctx, 0);
  const b = valueOf(ctx, 1);
  if (!a || !b) return undefined;
  const n = Math.max(a.length, b.length);
  if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined;
  return Array.from(
    { length: n },
    (_, i) => f(a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]),
  );
}

function reduceShape(shape: Shape, axes: number[] | undefined, keep: boolean, ctx: Ctx): Shape {
  const all = axes === undefined || axes.length === 0;
  const set = new Set((axes ?? []).map((a) => normalizeAxis(a, shape.length, ctx.node.opType)));
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    const reduced = all || set.has(i);
    if (!reduced) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

function sliceDim(d: Dim, start: number, end: number, step: number): Dim | undefined {
  if (typeof d === "number") {
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let s = start < 0 ? start + d : start;
    let e = end < 0 ? end + d : end;
    if (step > 0) {
      s = clamp(s, 0, d);
      e = clamp(e, 0, d);
      return Math.max(0, Math.ceil((e - s) / step));
    }
    s = clamp(s, -1, d - 1);
    e = clamp(e, -1, d - 1);
    return Math.max(0, Math.ceil((s - e) / -step));
  }
  if (step === 1 && start === 0 && end >= INT_MAX / 4) return d;
  if (step === 1 && start >= 0 && end >= INT_MAX / 4) return subDims(d, start);
  return undefined;
}

function einsumShape(ctx: Ctx, inputs: (ValueType | undefined)[]): Shape {
  const eq = String(attributeValue(ctx.node, "equation")).replace(/\s+/g, "");
  if (eq.includes("...")) {
    throw fail(ctx.node, `equation "${eq}" uses "...", which inference does not support`);
  }
  const [lhs, rhs] = eq.split("->");
  const terms = lhs.split(",");
  const dims = new Map<string, Dim>();
  const counts = new Map<string, number>();
  terms.forEach((term, i) => {
    const shape = req(ctx, inputs, i).shape;
    if (term.length !== shape.length) {
      throw fail(
        ctx.node,
        `term "${term}" has ${term.length} letters; input ${i} has rank ${shape.length}`,
      );
    }
    [...term].forEach((c, j) => {
      const prev = dims.get(c);
      if (prev === undefined || prev === 1) dims.set(c, shape[j]);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    });
  });
  const out = rhs ?? [...counts.keys()].filter((c) => counts.get(c) === 1).sort().join("");
  return [...out].map((c) => dims.get(c) ?? 1);
}

function lossShapes(ctx: Ctx, inputs: (ValueType | undefined)[]): ValueType[] {
  const scores = req(ctx, inputs, 0);
  const labels = req(ctx, inputs, 1);
  const reduction = attributeValue(ctx.node, "reduction");
  const out: ValueType[] = [{
    dtype: scores.dtype,
    shape: reduction === "none" ? [...labels.shape] : [],
  }];
  if (ctx.node.outputs.length > 1) out.push({ dtype: scores.dtype, shape: [...scores.shape] });
  return out;
}

const RULES: Record<string, Rule> = {};
for (const op of UNARY_OPS) RULES[op] = same;
RULES.Not = (ctx, i) => [{ dtype: "bool", shape: [...req(ctx, i, 0).shape] }];
for (const op of ARITH_OPS) {
  RULES[op] = (ctx, i) => {
    const a = req(ctx, i, 0);
    const b = req(ctx, i, 1);
    if (op !== "Pow" && a.dtype !== b.dtype) {
      throw fail(ctx.node, `operand dtypes differ (${a.dtype} vs ${b.dtype}); Cast one of them`);
    }
    return [broadcastOp(ctx, i)];
  };
}
for (const op of COMPARE_OPS) RULES[op] = (ctx, i) => [broadcastOp(ctx, i, "bool")];
for (const op of ["Max", "Min", "Sum", "Mean"]) RULES[op] = (ctx, i) => [broadcastOp(ctx, i)];
for (const op of REDUCE_OPS) {
  RULES[op] = (ctx, i) => {
    const x = req(ctx, i, 0);
    const axes = ctx.node.inputs[1] ? numericValueOf(ctx, 1, "axes") : undefined;
    if (
      (axes === undefined || axes.length === 0) && intAttr(ctx.node, "noop_with_empty_axes") === 1
    ) {
      return [{ ...x }];
    }
    return [{
      dtype: x.dtype,
      shape: reduceShape(x.shape, axes, intAttr(ctx.node, "keepdims") !== 0, ctx),
    }];
  };
}
RULES.MatMul = (
  ctx,
  i,
) => [{
  dtype: req(ctx, i, 0).dtype,
  shape: matmulShape(ctx, req(ctx, i, 0).shape, req(ctx, i, 1).shape),
}];
/**
 * onnxruntime contrib ops the quantized graphs use (graph_quant.ts), keyed `domain::op`.
 * `MatMulNBits`: `A[..., K] × B[N, K]ᵀ → [..., N]`; `GatherBlockQuantized`: rows of a packed
 * table quantized along its last axis, gathered along axis 0 → `indices.shape ++ rest`.
 */
const CONTRIB_RULES: Record<string, Rule> = {
  "com.microsoft::MatMulNBits": (ctx, i) => {
    const a = req(ctx, i, 0);
    const k = intAttr(ctx.node, "K");
    const n = intAttr(ctx.node, "N");
    if (k === undefined || n === undefined) throw fail(ctx.node, "attributes K and N are required");
    const last = a.shape[a.shape.length - 1];
    if (typeof last === "number" && last !== k) {
      throw fail(ctx.node, `input has ${last} features; K is ${k}`);
    }
    return [{ dtype: a.dtype, shape: [...a.shape.slice(0, -1), n] }];
  },
  "com.microsoft::GatherBlockQuantized": (ctx, i) => {
    const data = req(ctx, i, 0);
    const idx = req(ctx, i, 1);
    const scales = req(ctx, i, 2);
    const r = data.shape.length;
    const qAxis = intAttr(ctx.node, "quantize_axis") ?? 1;
    if ((intAttr(ctx.node, "gather_axis") ?? 0) !== 0 || qAxis !== r - 1 || r < 2) {
      throw fail(ctx.node, "only tables gathered along axis 0 and quantized along the last axis");
    }
    const bits = intAttr(ctx.node, "bits") ?? 4;
    const last = data.shape[r - 1];
    const width = typeof last === "number" ? (last * 8) / bits : freshDim(ctx, r - 1);
    return [{ dtype: scales.dtype, shape: [...idx.shape, ...data.shape.slice(1, -1), width] }];
  },
};
RULES.Gemm = (ctx, i) => {
  const a = req(ctx, i, 0).shape;
  const b = req(ctx, i, 1).shape;
  if (a.length !== 2 || b.length !== 2) {
    throw fail(ctx.node, `Gemm needs 2-D operands, got ${formatShape(a)} and ${formatShape(b)}`);
  }
  const m = intAttr(ctx.node, "transA") ? a[1] : a[0];
  const n = intAttr(ctx.node, "transB") ? b[0] : b[1];
  return [{ dtype: req(ctx, i, 0).dtype, shape: [m, n] }];
};
RULES.Reshape = (ctx, i) => {
  const x = req(ctx, i, 0);
  const target = valueOf(ctx, 1);
  if (!target) {
    const n = req(ctx, i, 1).shape[0];
    if (typeof n !== "number") throw fail(ctx.node, "the target shape has unknown length");
    return [{ dtype: x.dtype, shape: Array.from({ length: n }, (_, k) => freshDim(ctx, k)) }];
  }
  const allowzero = intAttr(ctx.node, "allowzero") === 1;
  const out: (Dim | undefined)[] = target.map((
    d,
    k,
  ) => (d === 0 && !allowzero ? x.shape[k] : d === -1 ? undefined : d));
  const hole = out.indexOf(undefined);
  if (hole >= 0) {
    const known = out.filter((d): d is Dim => d !== undefined);
    out[hole] = quotientDim(x.shape, known) ?? freshDim(ctx, hole);
  }
  return [{ dtype: x.dtype, shape: out as Dim[] }];
};
RULES.Transpose = (ctx, i) => {
  const x = req(ctx, i, 0);
  const perm = (attributeValue(ctx.node, "perm") as number[] | undefined) ??
    x.shape.map((_, k) => x.shape.length - 1 - k);
  if (perm.length !== x.shape.length) {
    throw fail(
      ctx.node,
      `perm [${perm}] has length ${perm.length}; input rank is ${x.shape.length}`,
    );
  }
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
};
RULES.Concat = (ctx, i) => {
  const first = req(ctx, i, 0);
  const axis = normalizeAxis(
    intAttr(ctx.node, "axis")!,
    first.shape.length,
    `Concat "${ctx.node.name}"`,
  );
  const shape = [...first.shape];
  for (let k = 1; k < i.length; k++) {
    const s = req(ctx, i, k).shape;
    if (s.length !== shape.length) {
      throw fail(ctx.node, `input ${k} has rank ${s.length}; input 0 has rank ${shape.length}`);
    }
    shape[axis] = addDims(shape[axis], s[axis]);
  }
  return [{ dtype: first.dtype, shape }];
};
RULES.Slice = (ctx, i) => {
  const x = req(ctx, i, 0);
  const starts = valueOf(ctx, 1);
  const ends = valueOf(ctx, 2);
  const axesV = ctx.node.inputs[3] ? valueOf(ctx, 3) : x.shape.map((_, k) => k);
  const steps = ctx.node.inputs[4] ? valueOf(ctx, 4) : undefined;
  const shape = [...x.shape];
  if (!axesV || axesV.some((a) => typeof a !== "number")) {
    return [{ dtype: x.dtype, shape: shape.map((_, k) => freshDim(ctx, k)) }];
  }
  (axesV as number[]).forEach((a, k) => {
    const axis = normalizeAxis(a, shape.length, `Slice "${ctx.node.name}"`);
    const s = starts?.[k];
    const e = ends?.[k];
    const st = steps ? steps[k] : 1;
    const d = typeof s === "number" && typeof e === "number" && typeof st === "number"
      ? sliceDim(shape[axis], s, e, st)
      : undefined;
    shape[axis] = d ?? freshDim(ctx, axis);
  });
  return [{ dtype: x.dtype, shape }];
};
RULES.Gather = (ctx, i) => {
  const x = req(ctx, i, 0);
  const idx = req(ctx, i, 1);
  const axis = normalizeAxis(
    intAttr(ctx.node, "axis") ?? 0,
    x.shape.length,
    `Gather "${ctx.node.name}"`,
  );
  return [{
    dtype: x.dtype,
    shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)],
  }];
};
RULES.GatherElements = (
  ctx,
  i,
) => [{ dtype: req(ctx, i, 0).dtype, shape: [...req(ctx, i, 1).shape] }];
RULES.GatherND = (ctx, i) => {
  const x = req(ctx, i, 0).shape;
  const idx = req(ctx, i, 1).shape;
  const b = intAttr(ctx.node, "batch_dims") ?? 0;
  const k = idx[idx.length - 1];
  if (typeof k !== "number") throw fail(ctx.node, "the last dim of indices must be a number");
  return [{ dtype: req(ctx, i, 0).dtype, shape: [...idx.slice(0, -1), ...x.slice(b + k)] }];
};
RULES.ScatterND = same;
RULES.ScatterElements = same;
RULES.Unsqueeze = (ctx, i) => {
  const x = req(ctx, i, 0);
  const axes = numericValueOf(ctx, 1, "axes");
  const rank = x.shape.length + axes.length;
  const set = new Set(axes.map((a) => normalizeAxis(a, rank, `Unsqueeze "${ctx.node.name}"`)));
  const shape: Dim[] = [];
  let src = 0;
  for (let k = 0; k < rank; k++) shape.push(set.has(k) ? 1 : x.shape[src++]);
  return [{ dtype: x.dtype, shape }];
};
RULES.Squeeze = (ctx, i) => {
  const x = req(ctx, i, 0);
  if (!ctx.node.inputs[1]) return [{ dtype: x.dtype, shape: x.shape.filter((d) => d !== 1) }];
  const axes = new Set(
    numericValueOf(ctx, 1, "axes").map((a) =>
      normalizeAxis(a, x.shape.length, `Squeeze "${ctx.node.name}"`)
    ),
  );
  for (const a of axes) {
    if (typeof x.shape[a] === "number" && x.shape[a] !== 1) {
      throw fail(ctx.node, `axis ${a} has size ${x.shape[a]}, not 1`);
    }
  }
  return [{ dtype: x.dtype, shape: x.shape.filter((_, k) => !axes.has(k)) }];
};
RULES.Softmax = same;
RULES.LogSoftmax = same;
RULES.Cast = (
  ctx,
  i,
) => [{ dtype: dtypeFromCode(intAttr(ctx.node, "to")!), shape: [...req(ctx, i, 0).shape] }];
RULES.Where = (ctx, i) => {
  const t = broadcastOp(ctx, i, req(ctx, i, 1).dtype);
  if (req(ctx, i, 1).dtype !== req(ctx, i, 2).dtype) {
    throw fail(
      ctx.node,
      `X and Y dtypes differ (${req(ctx, i, 1).dtype} vs ${
        req(ctx, i, 2).dtype
      }); Cast one of them`,
    );
  }
  return [t];
};
RULES.Expand = (ctx, i) => {
  const x = req(ctx, i, 0);
  const target = valueOf(ctx, 1);
  if (!target) {
    const n = req(ctx, i, 1).shape[0];
    if (typeof n !== "number") throw fail(ctx.node, "the target shape has unknown length");
    return [{ dtype: x.dtype, shape: Array.from({ length: n }, (_, k) => freshDim(ctx, k)) }];
  }
  return [{
    dtype: x.dtype,
    shape: broadcastShapes([x.shape, target], `Expand "${ctx.node.name}"`),
  }];
};
RULES.Shape = (ctx, i) => {
  const rank = req(ctx, i, 0).shape.length;
  const [s, e] = shapeRange(ctx.node, rank);
  return [{ dtype: "int64", shape: [Math.max(0, e - s)] }];
};
RULES.Size = () => [{ dtype: "int64", shape: [] }];
RULES.Range = (ctx, i) => {
  const [s, l, d] = [valueOf(ctx, 0)?.[0], valueOf(ctx, 1)?.[0], valueOf(ctx, 2)?.[0]];
  let n: Dim | undefined;
  if (typeof s === "number" && typeof l === "number" && typeof d === "number") {
    n = Math.max(0, Math.ceil((l - s) / d));
  } else if (d === 1 && s !== undefined && l !== undefined) n = subDims(l, s);
  return [{ dtype: req(ctx, i, 0).dtype, shape: [n ?? freshDim(ctx, 0)] }];
};
RULES.ConstantOfShape = (ctx, i) => {
  const v = attributeValue(ctx.node, "value") as TensorProtoData | undefined;
  const target = valueOf(ctx, 0);
  const n = req(ctx, i, 0).shape[0];
  const shape = target ??
    Array.from({ length: typeof n === "number" ? n : 0 }, (_, k) => freshDim(ctx, k));
  return [{ dtype: v?.dtype ?? "float32", shape: [...shape] }];
};
RULES.Constant = (ctx) => {
  const n = ctx.node;
  const t = attributeValue(n, "value") as TensorProtoData | undefined;
  if (t) return [{ dtype: t.dtype, shape: [...t.shape] }];
  if (n.attributes.value_float) return [{ dtype: "float32", shape: [] }];
  if (n.attributes.value_floats) {
    return [{ dtype: "float32", shape: [(n.attributes.value_floats.value as number[]).length] }];
  }
  if (n.attributes.value_int) return [{ dtype: "int64", shape: [] }];
  if (n.attributes.value_ints) {
    return [{ dtype: "int64", shape: [(n.attributes.value_ints.value as number[]).length] }];
  }
  throw fail(n, "Constant needs one of value, value_float(s), value_int(s)");
};
RULES.Tile = (ctx, i) => {
  const x = req(ctx, i, 0);
  const reps = valueOf(ctx, 1);
  return [{
    dtype: x.dtype,
    shape: x.shape.map((d, k) => (reps ? mulDims(d, reps[k]) : freshDim(ctx, k))),
  }];
};
RULES.Split = (ctx, i) => {
  const x = req(ctx, i, 0);
  const axis = normalizeAxis(
    intAttr(ctx.node, "axis") ?? 0,
    x.shape.length,
    `Split "${ctx.node.name}"`,
  );
  const count = ctx.node.outputs.length;
  const sizes: Dim[] = ctx.node.inputs[1] ? numericValueOf(ctx, 1, "split") : (() => {
    const d = x.shape[axis];
    if (typeof d !== "number") {
      return Array.from({ length: count }, (_, k) => `${ctx.node.outputs[k]}:${axis}`);
    }
    const chunk = Math.ceil(d / count);
    return Array.from({ length: count }, (_, k) => Math.max(0, Math.min(chunk, d - chunk * k)));
  })();
  return sizes.map((s) => {
    const shape = [...x.shape];
    shape[axis] = s;
    return { dtype: x.dtype, shape };
  });
};
RULES.Flatten = (ctx, i) => {
  const x = req(ctx, i, 0);
  const axis = intAttr(ctx.node, "axis") ?? 1;
  const a = axis < 0 ? axis + x.shape.length : axis;
  return [{
    dtype: x.dtype,
    shape: [productDims(x.shape.slice(0, a)), productDims(x.shape.slice(a))],
  }];
};
RULES.CumSum = same;
RULES.Trilu = same;
RULES.Clip = same;
RULES.SoftmaxCrossEntropyLoss = lossShapes;
RULES.NegativeLogLikelihoodLoss = lossShapes;
RULES.Einsum = (ctx, i) => [{ dtype: req(ctx, i, 0).dtype, shape: einsumShape(ctx, i) }];
RULES.ArgMax = (ctx, i) => {
  const x = req(ctx, i, 0);
  const axis = intAttr(ctx.node, "axis") ?? 0;
  return [{
    dtype: "int64",
    shape: reduceShape(x.shape, [axis], intAttr(ctx.node, "keepdims") !== 0, ctx),
  }];
};
RULES.LayerNormalization = (ctx, i) => {
  const x = req(ctx, i, 0);
  const axis = normalizeAxis(
    intAttr(ctx.node, "axis") ?? -1,
    x.shape.length,
    `LayerNormalization "${ctx.node.name}"`,
  );
  const stat: Shape = x.shape.map((d, k) => (k < axis ? d : 1));
  const outs: ValueType[] = [{ ...x }, { dtype: "float32", shape: stat }, {
    dtype: "float32",
    shape: [...stat],
  }];
  return outs.slice(0, ctx.node.outputs.length);
};

RULES.SimplifiedLayerNormalization = (ctx, i) => {
  const x = req(ctx, i, 0);
  const axis = normalizeAxis(
    intAttr(ctx.node, "axis") ?? -1,
    x.shape.length,
    `SimplifiedLayerNormalization "${ctx.node.name}"`,
  );
  const stat: Shape = x.shape.map((d, k) => (k < axis ? d : 1));
  const outs: ValueType[] = [{ ...x }, { dtype: "float32", shape: stat }];
  return outs.slice(0, ctx.node.outputs.length);
};

function shapeRange(node: Node, rank: number): [number, number] {
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  return [clamp(intAttr(node, "start") ?? 0), clamp(intAttr(node, "end") ?? rank)];
}

/** Tracks values of small integer tensors through shape arithmetic. */
function propagateValues(ctx: Ctx): Dim[] | undefined {
  const n = ctx.node;
  const v0 = () => valueOf(ctx, 0);
  switch (n.opType) {
    case "Shape": {
      const shape = ctx.types.get(n.inputs[0])!.shape;
      const [s, e] = shapeRange(n, shape.length);
      return shape.slice(s, e);
    }
    case "Identity":
    case "Squeeze":
    case "Unsqueeze":
    case "Reshape":
      return v0();
    case "Cast":
      return ["int64", "int32"].includes(dtypeFromCode(intAttr(n, "to")!)) ? v0() : undefined;
    case "Constant": {
      const t = attributeValue(n, "value") as TensorProtoData | undefined;
      if (t) return tensorValues(t);
      const ints = n.attributes.value_ints?.value ??
        (n.attributes.value_int ? [n.attributes.value_int.value] : undefined);
      return ints as number[] | undefined;
    }
    case "Gather": {
      const data = v0();
      const idx = valueOf(ctx, 1);
      if (!data || !idx || idx.some((x) => typeof x !== "number")) return undefined;
      return (idx as number[]).map((k) => data[k < 0 ? k + data.length : k]);
    }
    case "Concat": {
      const parts = n.inputs.map((_, k) => valueOf(ctx, k));
      return parts.every((p) => p) ? parts.flatMap((p) => p!) : undefined;
    }
    case "Slice": {
      const data = v0();
      const [s, e] = [valueOf(ctx, 1)?.[0], valueOf(ctx, 2)?.[0]];
      const step = n.inputs[4] ? valueOf(ctx, 4)?.[0] : 1;
      if (!data || typeof s !== "number" || typeof e !== "number" || step !== 1) return undefined;
      const len = data.length;
      const norm = (x: number) => Math.min(Math.max(x < 0 ? x + len : x, 0), len);
      return data.slice(norm(s), norm(e));
    }
    case "Add":
      return elementwiseValues(ctx, addDims);
    case "Sub":
      return elementwiseValues(ctx, subDims);
    case "Mul":
      return elementwiseValues(ctx, mulDims);
    case "Div":
      return elementwiseValues(ctx, divDims);
    case "Neg": {
      const v = v0();
      return v?.every((x) => typeof x === "number") ? (v as number[]).map((x) => -x) : undefined;
    }
    default:
      return undefined;
  }
}

function tensorValues(t: TensorProtoData): Dim[] | undefined {
  if ((t.dtype !== "int64" && t.dtype !== "int32") || t.shape.length > 1 || isLazy(t.data)) {
    return undefined;
  }
  const d = t.data;
  if (d.byteLength > 64 * 8) return undefined;
  if (t.dtype === "int64") {
    return Array.from(
      new BigInt64Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)),
      Number,
    );
  }
  return Array.from(new Int32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)));
}

/**
 * Infers the dtype and shape of every value of a graph: inputs, initializers and node outputs.
 * Unknown ops and mismatched shapes raise errors naming the node.
 *
 * @example
 * ```ts
 * import { GraphBuilder, inferShapes } from "./mod.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", ["batch", 3]);
 * const w = b.constant(new Float32Array(6), [3, 2]);
 * const y = b.op1("MatMul", [x, w]);
 * console.log(inferShapes(b.graph()).get(y)); // { dtype: "float32", shape: ["batch", 2] }
 * ```
 */
export function inferShapes(graph: Graph): Map<string, ValueType> {
  const types = new Map<string, ValueType>();
  const values = new Map<string, Dim[]>();
  for (const v of graph.inputs) types.set(v.name, { dtype: v.dtype, shape: [...v.shape] });
  for (const t of graph.initializers) {
    types.set(t.name, { dtype: t.dtype, shape: [...t.shape] });
    const vals = tensorValues(t);
    if (vals) values.set(t.name, vals);
  }
  for (const node of graph.nodes) {
    const isDefault = node.domain === "" || node.domain === "ai.onnx";
    const rule = isDefault ? RULES[node.opType] : CONTRIB_RULES[`${node.domain}::${node.opType}`];
    if (!rule) {
      throw withCode(
        new TypeError(
          `shape inference has no rule for op "${
            node.domain ? node.domain + "::" : ""
          }${node.opType}" (node "${node.name}"); add a rule in core/onnx/shape.ts or avoid the op`,
        ),
        "E_GRAPH",
      );
    }
    const inputs = node.inputs.map((name) => {
      if (name === "") return undefined;
      const t = types.get(name);
      if (!t) throw fail(node, `input "${name}" is not defined before this node`);
      return t;
    });
    const ctx: Ctx = { types, values, node };
    const outs = rule(ctx, inputs);
    node.outputs.forEach((name, k) => {
      if (name && outs[k]) types.set(name, outs[k]);
    });
    const out0 = types.get(node.outputs[0]);
    if (out0 && (out0.dtype === "int64" || out0.dtype === "int32") && out0.shape.length <= 1) {
      const v = propagateValues(ctx);
      if (v) values.set(node.outputs[0], v);
    }
  }
  return types;
}
