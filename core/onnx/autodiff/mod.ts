/**
 * Reverse-mode autodiff over the graph IR: a table of gradient rules (one per op type, standard
 * ONNX ops only) and the rewrite that appends the backward pass to a forward graph.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../builder.ts";
 * import { buildGradientGraph } from "./mod.ts";
 * const b = new GraphBuilder();
 * const w = b.input("w", "float32", [4]);
 * b.output("loss", "float32", [], b.op1("ReduceSum", [b.op1("Exp", [w])], { keepdims: 0 }));
 * const g = buildGradientGraph(b.graph(), { loss: "loss", wrt: ["w"] });
 * console.log(g.outputs.at(-1)?.name); // "grad.w"
 * ```
 *
 * @module
 */

export * from "./context.ts";
export * from "./gradient.ts";
export * from "./reopen.ts";
export * from "./rules.ts";
export * from "./grad_check.ts";
