/**
 * Gradient rules of reductions and normalizers: ReduceSum, ReduceMean, ReduceMax, Softmax,
 * LogSoftmax, CumSum and SoftmaxCrossEntropyLoss, each from standard ops only (no training-build
 * kernels such as SoftmaxGrad).
 *
 * @module
 */

import type { GradContext, GradRule } from "./context.ts";
import { gradError } from "./context.ts";

/** The normalized reduced axes of a Reduce* node, or `"noop"` for an identity reduction. */
function reducedAxes(ctx: GradContext): number[] | "noop" {
  const rank = ctx.inShape(0).length;
  const name = ctx.node.inputs[1];
  let axes: number[] | undefined = [];
  if (name) {
    axes = ctx.constInts(name);
    if (!axes) throw gradError(ctx.node, `axes "${name}" must be a constant tensor`);
  }
  if (axes.length === 0) {
    if (ctx.attr<number>("noop_with_empty_axes") === 1) return "noop";
    return Array.from({ length: rank }, (_, i) => i);
  }
  return [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
}

/** `v` (shaped like the reduction output) with the reduced axes restored as size 1. */
function keepDims(ctx: GradContext, v: string, axes: number[]): string {
  if (ctx.attr<number>("keepdims") !== 0 || axes.length === 0) return v;
  return ctx.b.op1("Unsqueeze", [v, ctx.b.constantInt(axes, [axes.length])]);
}

function reduceSumLike(mean: boolean): GradRule {
  return (ctx) => {
    const axes = reducedAxes(ctx);
    if (axes === "noop") return [ctx.dy()];
    const b = ctx.b;
    const x = ctx.node.inputs[0];
    let g = b.op1("Expand", [keepDims(ctx, ctx.dy(), axes), ctx.shapeOf(x)]);
    if (mean) {
      const dims = axes.map((a) => ctx.inShape(0)[a]);
      let count: string;
      if (dims.every((d) => typeof d === "number")) {
        count = ctx.scalar((dims as number[]).reduce((p, d) => p * d, 1));
      } else {
        const ratio = b.op1("Div", [b.op1("Size", [x]), b.op1("Size", [ctx.node.outputs[0]])]);
        count = b.op1("Cast", [ratio], { to: ctx.dtype });
      }
      g = b.op1("Div", [g, count]);
    }
    return [g];
  };
}

/** Sum of `v` over `axis`, keeping the axis. */
function sumKeep(ctx: GradContext, v: string, axis: number): string {
  return ctx.b.op1("ReduceSum", [v, ctx.b.constantInt([axis], [1])], { keepdims: 1 });
}

/** The SoftmaxCrossEntropyLoss rule (no class weights). */
const softmaxCrossEntropy: GradRule = (ctx) => {
  const b = ctx.b;
  const [scores, labels, weights] = ctx.node.inputs;
  if (weights) throw gradError(ctx.node, "class weights are not supported; drop the third input");
  const dLoss = ctx.gradOut(0);
  const dLogProb = ctx.node.outputs[1] ? ctx.gradOut(1) : undefined;
  const rank = ctx.inShape(0).length;
  const logProb = ctx.node.outputs[1];
  const p = logProb ? b.op1("Exp", [logProb]) : b.op1("Softmax", [scores], { axis: 1 });
  let grad: string | undefined;
  if (dLoss) {
    const reduction = ctx.attr<string>("reduction") ?? "mean";
    const ignore = ctx.attr<number>("ignore_index");
    const classes = b.op1("Squeeze", [ctx.dimOf(scores, 1), b.constantInt([0], [1])]);
    const range = b.op1("Range", [b.constantInt([0], []), classes, b.constantInt([1], [])]);
    const shape = [1, -1, ...Array.from({ length: rank - 2 }, () => 1)];
    const classIds = b.op1("Reshape", [range, b.constantInt(shape, [rank])]);
    const lab = b.op1("Unsqueeze", [labels, b.constantInt([1], [1])]);
    const onehot = b.op1("Cast", [b.op1("Equal", [lab, classIds])], { to: ctx.dtype });
    let w: string;
    let valid: string | undefined;
    if (ignore !== undefined) {
      const isIgnored = b.op1("Equal", [labels, b.constantInt([ignore], [])]);
      valid = b.op1("Cast", [b.op1("Not", [isIgnored])], { to: ctx.dtype });
    }
    if (reduction === "none") {
      w = valid ? b.op1("Mul", [dLoss, valid]) : dLoss;
    } else {
      w = valid ?? b.op1("Cast", [b.op1("Equal", [labels, labels])], { to: ctx.dtype });
      if (reduction === "mean") {
        const count = b.op1("Max", [b.op1("ReduceSum", [w], { keepdims: 0 }), ctx.scalar(1)]);
        w = b.op1("Div", [w, count]);
      } else if (reduction !== "sum") {
        throw gradError(ctx.node, `reduction "${reduction}" is not one of none, sum, mean`);
      }
      w = b.op1("Mul", [w, dLoss]);
    }
    const coeff = b.op1("Unsqueeze", [w, b.constantInt([1], [1])]);
    grad = b.op1("Mul", [b.op1("Sub", [p, onehot]), coeff]);
  }
  if (dLogProb) {
    const g = b.op1("Sub", [dLogProb, b.op1("Mul", [p, sumKeep(ctx, dLogProb, 1)])]);
    grad = grad ? b.op1("Add", [grad, g]) : g;
  }
  return [grad, undefined, undefined];
};

/** Reduction and normalizer rules, keyed by op type. */
export const REDUCE_RULES: Record<string, GradRule> = {
  ReduceSum: reduceSumLike(false),
  ReduceMean: reduceSumLike(true),
  ReduceMax: (ctx) => {
    const axes = reducedAxes(ctx);
    if (axes === "noop") return [ctx.dy()];
    const b = ctx.b;
    const x = ctx.node.inputs[0];
    const yk = keepDims(ctx, ctx.node.outputs[0], axes);
    const dyk = keepDims(ctx, ctx.dy(), axes);
    // Ties share the gradient equally (the subgradient ORT and PyTorch's amax use).
    const mask = b.op1("Cast", [b.op1("Equal", [x, yk])], { to: ctx.dtype });
    const count = b.op1("ReduceSum", [mask, b.constantInt(axes, [axes.length])], { keepdims: 1 });
    return [b.op1("Div", [b.op1("Mul", [mask, dyk]), count])];
  },
  Softmax: (ctx) => {
    const y = ctx.node.outputs[0];
    const b = ctx.b;
    const dy = ctx.dy();
    const axis = ctx.attr<number>("axis") ?? -1;
    return [b.op1("Mul", [y, b.op1("Sub", [dy, sumKeep(ctx, b.op1("Mul", [dy, y]), axis)])])];
  },
  LogSoftmax: (ctx) => {
    const y = ctx.node.outputs[0];
    const b = ctx.b;
    const dy = ctx.dy();
    const axis = ctx.attr<number>("axis") ?? -1;
    return [b.op1("Sub", [dy, b.op1("Mul", [b.op1("Exp", [y]), sumKeep(ctx, dy, axis)])])];
  },
  CumSum: (ctx) => [
    ctx.b.op1("CumSum", [ctx.dy(), ctx.node.inputs[1]], {
      exclusive: ctx.attr<number>("exclusive") ?? 0,
      reverse: (ctx.attr<number>("reverse") ?? 0) ? 0 : 1,
    }),
    undefined,
  ],
  SoftmaxCrossEntropyLoss: softmaxCrossEntropy,
};
