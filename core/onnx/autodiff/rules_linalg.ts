/**
 * Gradient rules of MatMul (any ranks, numpy batch broadcasting) and Gemm.
 *
 * @module
 */

import type { Shape } from "../ir.ts";
import { broadcastShapes } from "../shape_dims.ts";
import type { GradContext, GradRule } from "./context.ts";

/** Swaps the last two axes of a rank-`rank` value. */
function swapLast(ctx: GradContext, v: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return ctx.b.op1("Transpose", [v], { perm });
}

const matMul: GradRule = (ctx) => {
  const b = ctx.b;
  const [A, B] = ctx.node.inputs;
  const sa = ctx.inShape(0);
  const sb = ctx.inShape(1);
  const dy = ctx.dy();

  // The common linear layer x[..., k] @ W[k, n]: flatten the leading dims for dW.
  if (sb.length === 2 && sa.length >= 2) {
    let dA: string | undefined;
    let dB: string | undefined;
    if (ctx.needs(0)) dA = b.op1("MatMul", [dy, swapLast(ctx, B, 2)]);
    if (ctx.needs(1)) {
      const [k, n] = sb;
      const flat = (v: string, d: number | string, src: string, axis: number) =>
        b.op1("Reshape", [
          v,
          typeof d === "number"
            ? b.constantInt([-1, d], [2])
            : b.op1("Concat", [b.constantInt([-1], [1]), ctx.dimOf(src, axis)], { axis: 0 }),
        ]);
      const a2 = sa.length === 2 ? A : flat(A, k, B, 0);
      const dy2 = sa.length === 2 ? dy : flat(dy, n, B, 1);
      dB = b.op1("MatMul", [swapLast(ctx, a2, 2), dy2]);
    }
    return [dA, dB];
  }

  // General case: lift rank-1 operands to matrices, multiply, then unbroadcast batch dims.
  const a2 = sa.length === 1 ? b.op1("Unsqueeze", [A, b.constantInt([0], [1])]) : A;
  const b2 = sb.length === 1 ? b.op1("Unsqueeze", [B, b.constantInt([1], [1])]) : B;
  const sa2: Shape = sa.length === 1 ? [1, sa[0]] : sa;
  const sb2: Shape = sb.length === 1 ? [sb[0], 1] : sb;
  const batch = broadcastShapes([sa2.slice(0, -2), sb2.slice(0, -2)], `MatMul "${ctx.node.name}"`);
  const r = batch.length + 2;
  let dy2 = dy;
  if (sa.length === 1) dy2 = b.op1("Unsqueeze", [dy2, b.constantInt([r - 2], [1])]);
  if (sb.length === 1) dy2 = b.op1("Unsqueeze", [dy2, b.constantInt([r - 1], [1])]);
  const [m, k] = sa2.slice(-2);
  const n = sb2[sb2.length - 1];
  let dA: string | undefined;
  let dB: string | undefined;
  if (ctx.needs(0)) {
    const g = b.op1("MatMul", [dy2, swapLast(ctx, b2, sb2.length)]);
    const t = ctx.unbroadcastTo(
      g,
      [...batch, m, k],
      sa2,
      () => sa.length === 1 ? b.constantInt([1, -1], [2]) : ctx.shapeOf(A),
    );
    dA = sa.length === 1 ? b.op1("Reshape", [t, ctx.shapeOf(A)]) : t;
  }
  if (ctx.needs(1)) {
    const g = b.op1("MatMul", [swapLast(ctx, a2, sa2.length), dy2]);
    const t = ctx.unbroadcastTo(
      g,
      [...batch, k, n],
      sb2,
      () => sb.length === 1 ? b.constantInt([-1, 1], [2]) : ctx.shapeOf(B),
    );
    dB = sb.length === 1 ? b.op1("Reshape", [t, ctx.shapeOf(B)]) : t;
  }
  return [dA, dB];
};

const gemm: GradRule = (ctx) => {
  const b = ctx.b;
  const [A, B, C] = ctx.node.inputs;
  const alpha = ctx.attr<number>("alpha") ?? 1;
  const beta = ctx.attr<number>("beta") ?? 1;
  const ta = ctx.attr<number>("transA") ?? 0;
  const tb = ctx.attr<number>("transB") ?? 0;
  const dy = ctx.dy();
  const T = (v: string) => b.op1("Transpose", [v], { perm: [1, 0] });
  const scale = (v: string) => (alpha === 1 ? v : b.op1("Mul", [v, ctx.scalar(alpha)]));
  let dA: string | undefined;
  let dB: string | undefined;
  let dC: string | undefined;
  if (ctx.needs(0)) {
    // A' = op(A): dA' = dy · op(B)ᵀ, and dA = dA'ᵀ when transA.
    dA = ta ? b.op1("MatMul", [tb ? T(B) : B, T(dy)]) : b.op1("MatMul", [dy, tb ? B : T(B)]);
    dA = scale(dA);
  }
  if (ctx.needs(1)) {
    dB = tb ? b.op1("MatMul", [T(dy), ta ? T(A) : A]) : b.op1("MatMul", [ta ? A : T(A), dy]);
    dB = scale(dB);
  }
  if (C && ctx.needs(2)) {
    const g = beta === 1 ? dy : b.op1("Mul", [dy, ctx.scalar(beta)]);
    dC = ctx.unbroadcast(g, ctx.type(ctx.node.outputs[0]).shape, C);
  }
  return [dA, dB, dC];
};

/** Linear-algebra rules, keyed by op type. */
export const LINALG_RULES: Record<string, GradRule> = { MatMul: matMul, Gemm: gemm };
