/**
 * Re-opens a finished {@link Graph} as a {@link GraphBuilder}, so a rewrite (the backward pass)
 * appends nodes with the builder's validation and unique naming instead of editing arrays by hand.
 *
 * @module
 */

import { GraphBuilder } from "../builder.ts";
import type { Graph } from "../ir.ts";

/**
 * Replays every input, initializer, node and output of `graph` into a new builder of the given
 * float type. Tensor data is shared, not copied. Omitted optional node outputs (`""`) get fresh
 * names, which changes nothing a consumer can see.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../builder.ts";
 * import { reopenGraph } from "./reopen.ts";
 * const b0 = new GraphBuilder();
 * b0.output("y", "float32", [2], b0.op1("Neg", [b0.input("x", "float32", [2])]));
 * const b = reopenGraph(b0.graph());
 * b.output("z", "float32", [2], b.op1("Exp", ["y"]));
 * console.log(b.graph().outputs.map((o) => o.name)); // ["y", "z"]
 * ```
 */
export function reopenGraph(
  graph: Graph,
  floatType: "float32" | "float64" = "float32",
): GraphBuilder {
  const b = new GraphBuilder({ name: graph.name, floatType });
  for (const v of graph.inputs) b.input(v.name, v.dtype, v.shape);
  for (const t of graph.initializers) b.initializer(t.name, t.dtype, t.shape, t.data);
  for (const n of graph.nodes) {
    const outputNames = n.outputs.map((o) => (o === "" ? b.fresh(`${n.opType}_unused`) : o));
    b.op(n.opType, n.inputs, n.attributes, {
      outputNames,
      name: n.name,
      domain: n.domain,
    });
  }
  for (const o of graph.outputs) b.output(o.name, o.dtype, o.shape);
  return b;
}
