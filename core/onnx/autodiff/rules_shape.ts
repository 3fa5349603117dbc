/**
 * Gradient rules of data-movement ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Expand,
 * Concat, Split, Slice, Gather and GatherElements. Scatter-shaped gradients use ScatterElements
 * (a standard op), not the training-build GatherGrad.
 *
 * @module
 */

import type { GradContext, GradRule } from "./context.ts";
import { gradError } from "./context.ts";

const INT_MAX = 2 ** 62;

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** dx = dy reshaped to x's shape. */
const reshapeBack: GradRule = (ctx) => [
  ctx.b.op1("Reshape", [ctx.dy(), ctx.shapeOf(ctx.node.inputs[0])]),
  ...ctx.node.inputs.slice(1).map(() => undefined),
];

/** Non-negative indices: `idx < 0 ? idx + dim : idx`. */
function positiveIndices(ctx: GradContext, idx: string, data: string, axis: number): string {
  const b = ctx.b;
  const known = ctx.constInts(idx);
  if (known && known.every((v) => v >= 0)) return idx;
  const dim = b.op1("Squeeze", [ctx.dimOf(data, axis), b.constantInt([0], [1])]);
  const neg = b.op1("Less", [idx, b.constantInt([0], [])]);
  return b.op1("Where", [neg, b.op1("Add", [idx, dim]), idx]);
}

/** Puts `g` (x's shape except along `axis`) back into zeros of x's extent along `axis`. */
function unslice(ctx: GradContext, g: string, rank: number, axis: number, k: number): string {
  const b = ctx.b;
  const [x, starts, ends, , steps] = ctx.node.inputs;
  const pick = (name: string) => {
    const vals = ctx.constInts(name);
    return vals ? b.constantInt([vals[k]], [1]) : b.op1("Slice", [
      name,
      b.constantInt([k], [1]),
      b.constantInt([k + 1], [1]),
    ]);
  };
  const dim = ctx.dimOf(x, axis);
  const positions = b.op1("Range", [
    b.constantInt([0], []),
    b.op1("Squeeze", [dim, b.constantInt([0], [1])]),
    b.constantInt([1], []),
  ]);
  const sliceInputs = [positions, pick(starts), pick(ends), b.constantInt([0], [1])];
  if (steps) sliceInputs.push(pick(steps));
  const chosen = b.op1("Slice", sliceInputs);
  const gShape = b.op1("Shape", [g]);
  const view = Array.from({ length: rank }, (_, i) => (i === axis ? -1 : 1));
  const indices = b.op1("Expand", [
    b.op1("Reshape", [chosen, b.constantInt(view, [rank])]),
    gShape,
  ]);
  const parts = [];
  if (axis > 0) {
    parts.push(b.op1("Slice", [gShape, b.constantInt([0], [1]), b.constantInt([axis], [1])]));
  }
  parts.push(dim);
  if (axis < rank - 1) {
    parts.push(
      b.op1("Slice", [gShape, b.constantInt([axis + 1], [1]), b.constantInt([INT_MAX], [1])]),
    );
  }
  const target = parts.length === 1 ? parts[0] : b.op1("Concat", parts, { axis: 0 });
  return b.op1("ScatterElements", [ctx.zerosOfShape(target), indices, g], { axis });
}

const slice: GradRule = (ctx) => {
  const [x, starts, , axesName] = ctx.node.inputs;
  const rank = ctx.type(x).shape.length;
  let axes: number[] | undefined;
  if (axesName) {
    axes = ctx.constInts(axesName);
    if (!axes) throw gradError(ctx.node, `axes "${axesName}" must be a constant tensor`);
  } else {
    const n = ctx.type(starts).shape[0];
    if (typeof n !== "number") throw gradError(ctx.node, "starts must have a static length");
    axes = Array.from({ length: n }, (_, i) => i);
  }
  let g = ctx.dy();
  axes.forEach((a, k) => {
    g = unslice(ctx, g, rank, norm(a, rank), k);
  });
  return [g, undefined, undefined, undefined, undefined];
};

/**
 * `table[ids[m]] += rows[m]` into a zero table of shape `tableShape` (`[n, ...rest]`), `rows`
 * shaped `[...ids, ...rest]`: ScatterElements over the table viewed as `[n, Π rest]`.
 * Not ScatterND: onnxruntime 1.30's CPU ScatterND adds across threads without ordering and loses
 * updates when ids repeat (20 runs of one 16384-row scatter with 2 threads gave 10 different
 * tables, off by up to 80), which is every embedding gradient; ScatterElements adds in order.
 */
function scatterAddRows(ctx: GradContext, tableShape: string, ids: string, rows: string): string {
  const b = ctx.b;
  const table = b.op1("Reshape", [ctx.zerosOfShape(tableShape), b.constantInt([0, -1], [2])]);
  const width = b.op1("Shape", [table], { start: 1, end: 2 });
  const flat = b.op1("Reshape", [
    rows,
    b.op1("Concat", [b.constantInt([-1], [1]), width], { axis: 0 }),
  ]);
  const at = b.op1("Expand", [
    b.op1("Reshape", [ids, b.constantInt([-1, 1], [2])]),
    b.op1("Shape", [flat]),
  ]);
  const summed = b.op1("ScatterElements", [table, at, flat], { axis: 0, reduction: "add" });
  return b.op1("Reshape", [summed, tableShape]);
}

/** The inverse of constant indices that reorder all `n` places of an axis; else `undefined`. */
function inversePermutation(
  indices: number[] | undefined,
  n: number | string | undefined,
): number[] | undefined {
  if (!indices || typeof n !== "number" || indices.length !== n) return undefined;
  const inverse = new Array<number>(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const v = indices[i] < 0 ? indices[i] + n : indices[i];
    if (!(v >= 0 && v < n) || inverse[v] !== -1) return undefined;
    inverse[v] = i;
  }
  return inverse;
}

const gather: GradRule = (ctx) => {
  const b = ctx.b;
  const [x, idx] = ctx.node.inputs;
  const r = ctx.type(x).shape.length;
  const q = ctx.type(idx).shape.length;
  const a = norm(ctx.attr<number>("axis") ?? 0, r);
  const inverse = q === 1
    ? inversePermutation(ctx.constInts(idx), ctx.type(x).shape[a])
    : undefined;
  if (inverse) {
    // A reordering (act-order inputs): the gradient is the same reordering undone.
    return [
      b.op1("Gather", [ctx.dy(), b.constantInt(inverse, [inverse.length])], { axis: a }),
      undefined,
    ];
  }
  const ids = positiveIndices(ctx, idx, x, a);
  let dy = ctx.dy();
  if (a === 0) return [scatterAddRows(ctx, ctx.shapeOf(x), ids, dy), undefined];
  // Move the gathered axis first: dy [pre, idx, post] → [idx, pre, post]; scatter; move back.
  const range = (lo: number, hi: number) => Array.from({ length: hi - lo }, (_, i) => lo + i);
  const perm = [...range(a, a + q), ...range(0, a), ...range(a + q, r - 1 + q)];
  dy = b.op1("Transpose", [dy], { perm });
  const order = [a, ...range(0, a), ...range(a + 1, r)];
  const zShape = b.op1("Gather", [ctx.shapeOf(x), b.constantInt(order, [r])]);
  const scattered = scatterAddRows(ctx, zShape, ids, dy);
  const back = order.map((_, i) => order.indexOf(i));
  return [b.op1("Transpose", [scattered], { perm: back }), undefined];
};

/** Data-movement rules, keyed by op type. */
export const SHAPE_RULES: Record<string, GradRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: (ctx) => {
    const rank = ctx.inShape(0).length;
    const perm = ctx.attr<number[]>("perm") ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [ctx.b.op1("Transpose", [ctx.dy()], { perm: inv })];
  },
  Expand: (ctx) => [
    ctx.unbroadcast(ctx.dy(), ctx.type(ctx.node.outputs[0]).shape, ctx.node.inputs[0]),
    undefined,
  ],
  Concat: (ctx) => {
    const b = ctx.b;
    const inputs = ctx.node.inputs;
    if (inputs.length === 1) return [ctx.dy()];
    const rank = ctx.inShape(0).length;
    const axis = norm(ctx.attr<number>("axis")!, rank);
    const dims = inputs.map((v) => ctx.type(v).shape[axis]);
    const sizes = dims.every((d) => typeof d === "number")
      ? b.constantInt(dims as number[], [dims.length])
      : b.op1("Concat", inputs.map((v) => ctx.dimOf(v, axis)), { axis: 0 });
    const parts = b.op("Split", [ctx.dy(), sizes], { axis }, { outputs: inputs.length });
    return parts.map((p, i) => (ctx.needs(i) ? p : undefined));
  },
  Split: (ctx) => {
    const rank = ctx.inShape(0).length;
    const axis = norm(ctx.attr<number>("axis") ?? 0, rank);
    const parts = ctx.node.outputs.map((_, k) => ctx.dy(k));
    return [ctx.b.op1("Concat", parts, { axis }), undefined];
  },
  Slice: slice,
  Gather: gather,
  GatherElements: (ctx) => {
    const [x, idx] = ctx.node.inputs;
    const rank = ctx.type(x).shape.length;
    const axis = norm(ctx.attr<number>("axis") ?? 0, rank);
    const ids = positiveIndices(ctx, idx, x, axis);
    return [
      ctx.b.op1("ScatterElements", [ctx.zerosLike(x), ids, ctx.dy()], { axis, reduction: "add" }),
      undefined,
    ];
  },
};
