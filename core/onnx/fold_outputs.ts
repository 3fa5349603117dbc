/**
 * Graph outputs without copies. {@link GraphBuilder.output} names a value for the outside world
 * through an `Identity` node; onnxruntime keeps such nodes (it cannot rename a graph output), so
 * every run copies each of those outputs once more: in a decoder's inference graph that is the
 * new KV columns and the hidden states of every layer, about three nodes per layer and step.
 * {@link foldOutputIdentities} gives the producing node's value the output's name instead.
 *
 * @module
 */

import type { Graph } from "./ir.ts";

/**
 * Removes each `Identity` node that copies a node's value into a graph output, renaming that value
 * to the output's name everywhere (its producer and every consumer), so the graph computes the
 * same outputs with fewer nodes. Left alone: identities of graph inputs or initializers (they have
 * no producer to rename), of values that are graph outputs themselves, and all but the first
 * identity of a value exposed under several names, and nodes of other domains. Run it last: a
 * pass that expects outputs to be copies (the float16 pass casts each output's value where it
 * leaves) must see the graph before this one.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "./builder.ts";
 * import { foldOutputIdentities } from "./fold_outputs.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", [2]);
 * b.output("y", "float32", [2], b.op1("Sigmoid", [x]));
 * const g = foldOutputIdentities(b.graph());
 * console.log(g.nodes.map((n) => `${n.opType}->${n.outputs}`)); // [ "Sigmoid->y" ]
 * ```
 */
export function foldOutputIdentities(graph: Graph): Graph {
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const produced = new Set(graph.nodes.flatMap((n) => n.outputs));
  const rename = new Map<string, string>();
  const folded = new Set<number>();
  graph.nodes.forEach((n, i) => {
    if (n.opType !== "Identity" || n.domain !== "" || n.inputs.length !== 1) return;
    const [from] = n.inputs;
    const [to] = n.outputs;
    if (!outputs.has(to) || outputs.has(from) || !produced.has(from) || rename.has(from)) return;
    rename.set(from, to);
    folded.add(i);
  });
  if (rename.size === 0) return graph;
  const name = (v: string) => rename.get(v) ?? v;
  return {
    ...graph,
    nodes: graph.nodes.filter((_, i) => !folded.has(i)).map((n) => ({
      ...n,
      inputs: n.inputs.map(name),
      outputs: n.outputs.map(name),
    })),
    ...(graph.valueInfo ? { valueInfo: graph.valueInfo.filter((v) => !rename.has(v.name)) } : {}),
  };
}
