/**
 * Gradient rules of elementwise ops: broadcasting arithmetic (with unbroadcasting), unary maths
 * that read their primal output where that is cheaper, Where and Cast.
 *
 * @module
 */

import { isFloat } from "../ir.ts";
import type { GradContext, GradRule } from "./context.ts";

/** Unbroadcasts `g` (shaped like output 0) to input `i`. */
function toInput(ctx: GradContext, g: string, i: number): string {
  return ctx.unbroadcast(g, ctx.type(ctx.node.outputs[0]).shape, ctx.node.inputs[i]);
}

/** A rule for a unary op whose gradient is `dy · f'(x, y)`. */
function unary(deriv: (ctx: GradContext, x: string, y: string, dy: string) => string): GradRule {
  return (ctx) => [deriv(ctx, ctx.node.inputs[0], ctx.node.outputs[0], ctx.dy())];
}

/** Elementwise rules, keyed by op type. */
export const ELEMENTWISE_RULES: Record<string, GradRule> = {
  Identity: (ctx) => [ctx.dy()],
  Add: (ctx) => [
    ctx.needs(0) ? toInput(ctx, ctx.dy(), 0) : undefined,
    ctx.needs(1) ? toInput(ctx, ctx.dy(), 1) : undefined,
  ],
  Sum: (ctx) => ctx.node.inputs.map((_, i) => ctx.needs(i) ? toInput(ctx, ctx.dy(), i) : undefined),
  Sub: (ctx) => [
    ctx.needs(0) ? toInput(ctx, ctx.dy(), 0) : undefined,
    ctx.needs(1) ? toInput(ctx, ctx.b.op1("Neg", [ctx.dy()]), 1) : undefined,
  ],
  Mul: (ctx) => {
    const [a, c] = ctx.node.inputs;
    const dy = ctx.dy();
    return [
      ctx.needs(0) ? toInput(ctx, ctx.b.op1("Mul", [dy, c]), 0) : undefined,
      ctx.needs(1) ? toInput(ctx, ctx.b.op1("Mul", [dy, a]), 1) : undefined,
    ];
  },
  Div: (ctx) => {
    const [, den] = ctx.node.inputs;
    const y = ctx.node.outputs[0];
    const b = ctx.b;
    const dyOverDen = b.op1("Div", [ctx.dy(), den]);
    return [
      ctx.needs(0) ? toInput(ctx, dyOverDen, 0) : undefined,
      // d(a/d)/dd = -(a/d)/d = -y/d
      ctx.needs(1) ? toInput(ctx, b.op1("Neg", [b.op1("Mul", [dyOverDen, y])]), 1) : undefined,
    ];
  },
  Pow: (ctx) => {
    const [base, exp] = ctx.node.inputs;
    const y = ctx.node.outputs[0];
    const b = ctx.b;
    const dy = ctx.dy();
    let da: string | undefined;
    if (ctx.needs(0)) {
      const e = ctx.type(exp).dtype === ctx.dtype ? exp : b.op1("Cast", [exp], { to: ctx.dtype });
      const p = b.op1("Pow", [base, b.op1("Sub", [e, ctx.scalar(1)])]);
      da = toInput(ctx, b.op1("Mul", [dy, b.op1("Mul", [e, p])]), 0);
    }
    let de: string | undefined;
    if (ctx.needs(1) && isFloat(ctx.type(exp).dtype)) {
      de = toInput(ctx, b.op1("Mul", [dy, b.op1("Mul", [y, b.op1("Log", [base])])]), 1);
    }
    return [da, de];
  },
  Neg: unary((ctx, _x, _y, dy) => ctx.b.op1("Neg", [dy])),
  Sqrt: unary((ctx, _x, y, dy) => ctx.b.op1("Div", [ctx.b.op1("Mul", [dy, ctx.scalar(0.5)]), y])),
  Reciprocal: unary((ctx, _x, y, dy) =>
    ctx.b.op1("Neg", [ctx.b.op1("Mul", [dy, ctx.b.op1("Mul", [y, y])])])
  ),
  Exp: unary((ctx, _x, y, dy) => ctx.b.op1("Mul", [dy, y])),
  Log: unary((ctx, x, _y, dy) => ctx.b.op1("Div", [dy, x])),
  Sigmoid: unary((ctx, _x, y, dy) =>
    ctx.b.op1("Mul", [dy, ctx.b.op1("Mul", [y, ctx.b.op1("Sub", [ctx.scalar(1), y])])])
  ),
  Tanh: unary((ctx, _x, y, dy) =>
    ctx.b.op1("Mul", [dy, ctx.b.op1("Sub", [ctx.scalar(1), ctx.b.op1("Mul", [y, y])])])
  ),
  Relu: unary((ctx, x, _y, dy) =>
    ctx.b.op1("Where", [ctx.b.op1("Greater", [x, ctx.scalar(0)]), dy, ctx.scalar(0)])
  ),
  Abs: unary((ctx, x, _y, dy) =>
    ctx.b.op1("Where", [ctx.b.op1("Greater", [x, ctx.scalar(0)]), dy, ctx.b.op1("Neg", [dy])])
  ),
  Softplus: unary((ctx, x, _y, dy) => ctx.b.op1("Mul", [dy, ctx.b.op1("Sigmoid", [x])])),
  Cos: unary((ctx, x, _y, dy) => ctx.b.op1("Neg", [ctx.b.op1("Mul", [dy, ctx.b.op1("Sin", [x])])])),
  Sin: unary((ctx, x, _y, dy) => ctx.b.op1("Mul", [dy, ctx.b.op1("Cos", [x])])),
  Cast: (ctx) => {
    const x = ctx.node.inputs[0];
    const dtype = ctx.type(x).dtype;
    if (!isFloat(dtype)) return [undefined];
    return [dtype === ctx.dtype ? ctx.dy() : ctx.b.op1("Cast", [ctx.dy()], { to: dtype })];
  },
  Where: (ctx) => {
    const [cond] = ctx.node.inputs;
    const b = ctx.b;
    const dy = ctx.dy();
    const zero = ctx.scalar(0);
    return [
      undefined,
      ctx.needs(1) ? toInput(ctx, b.op1("Where", [cond, dy, zero]), 1) : undefined,
      ctx.needs(2) ? toInput(ctx, b.op1("Where", [cond, zero, dy]), 2) : undefined,
    ];
  },
};
