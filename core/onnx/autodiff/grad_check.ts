/**
 * Gradient checking: the analytic gradients of a rewritten graph, run in onnxruntime, against
 * central finite differences of the loss, also run in onnxruntime — an oracle independent of the
 * rules. Meant for float64 graphs.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { type Graph, makeModel } from "../ir.ts";
import { type HostTensor, toOrt } from "../ort_run.ts";
import { serializeModel } from "../serialize.ts";
import { buildGradientGraph } from "./gradient.ts";

/** Options of {@link checkGradients}. */
export interface GradCheckOptions {
  loss: string;
  wrt: string[];
  /** Finite-difference step. Default 1e-6. */
  step?: number;
  /** Check at most this many elements per input (spread evenly). Default all. */
  maxElements?: number;
}

/** Result of one input's check. */
export interface GradCheckResult {
  /** `max |analytic - numeric| / max(max |numeric|, 1e-12)` over the checked elements. */
  relativeError: number;
  analytic: Float64Array;
  numeric: Float64Array;
  /** Flat indices that were checked. */
  indices: number[];
}

/**
 * Builds the gradient graph, runs it once for the analytic gradients, then perturbs each checked
 * element by ±step and evaluates the loss for central differences.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../builder.ts";
 * import { checkGradients } from "./grad_check.ts";
 * const b = new GraphBuilder({ floatType: "float64" });
 * const x = b.input("x", "float64", [3]);
 * b.output("loss", "float64", [], b.op1("ReduceSum", [b.op1("Exp", [x])], { keepdims: 0 }));
 * const r = await checkGradients(b.graph(), {
 *   x: { dtype: "float64", shape: [3], data: new Float64Array([0.1, 0.2, 0.3]) },
 * }, { loss: "loss", wrt: ["x"] });
 * console.log(r.x.relativeError < 1e-6);
 * ```
 */
export async function checkGradients(
  graph: Graph,
  feeds: Record<string, HostTensor>,
  options: GradCheckOptions,
): Promise<Record<string, GradCheckResult>> {
  const grad = buildGradientGraph(graph, { loss: options.loss, wrt: options.wrt });
  const { model } = serializeModel(makeModel(grad));
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: "basic" });
  const h = options.step ?? 1e-6;
  try {
    const toFeeds = (f: Record<string, HostTensor>) => {
      const out: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(f)) out[k] = toOrt(v);
      return out;
    };
    const all = await session.run(toFeeds(feeds));
    const lossAt = async (f: Record<string, HostTensor>) => {
      const out = await session.run(toFeeds(f), [options.loss]);
      return Number((out[options.loss].data as Float64Array)[0]);
    };
    const results: Record<string, GradCheckResult> = {};
    for (const w of options.wrt) {
      const base = feeds[w];
      const n = base.data.length;
      const limit = Math.min(n, options.maxElements ?? n);
      const indices = Array.from({ length: limit }, (_, i) => Math.floor((i * n) / limit));
      const analyticAll = all[`grad.${w}`].data as Float64Array;
      const analytic = Float64Array.from(indices, (i) => Number(analyticAll[i]));
      const numeric = new Float64Array(limit);
      for (let j = 0; j < limit; j++) {
        const i = indices[j];
        const data = Float64Array.from(base.data as Float64Array);
        data[i] = (base.data as Float64Array)[i] + h;
        const up = await lossAt({ ...feeds, [w]: { ...base, data } });
        data[i] = (base.data as Float64Array)[i] - h;
        const down = await lossAt({ ...feeds, [w]: { ...base, data } });
        numeric[j] = (up - down) / (2 * h);
      }
      let err = 0;
      let scale = 0;
      for (let j = 0; j < limit; j++) {
        err = Math.max(err, Math.abs(analytic[j] - numeric[j]));
        scale = Math.max(scale, Math.abs(numeric[j]));
      }
      results[w] = { relativeError: err / Math.max(scale, 1e-12), analytic, numeric, indices };
    }
    return results;
  } finally {
    await session.release();
  }
}
