/**
 * Projections onto persona vectors (spec B6): scalar projection, cosine similarity, the
 * per-sample metrics (proj, prompt_last_proj, prompt_avg_proj, cos_sim), the finetuning shift,
 * projection-difference data screening, and directional ablation (spec B8).
 *
 * @module
 */

import { type HiddenStates, layerRow, type LayerVectors } from "./hidden_states.ts";
import { summarizeSample } from "./vectors.ts";

type Vec = ArrayLike<number>;

function dot(a: Vec, b: Vec): number {
  if (a.length !== b.length) {
    throw new RangeError(`vector lengths differ (${a.length} vs ${b.length})`);
  }
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Euclidean norm.
 *
 * @example
 * ```ts
 * import { norm } from "./projection.ts";
 * console.log(norm([3, 4])); // 5
 * ```
 */
export function norm(a: Vec): number {
  return Math.sqrt(dot(a, a));
}

/**
 * `a · v / ‖v‖`: the length of `a` along the unit direction of `v` (`a` is not normalised).
 *
 * @example
 * ```ts
 * import { scalarProjection } from "./projection.ts";
 * console.log(scalarProjection([3, 4], [2, 0])); // 3
 * ```
 */
export function scalarProjection(a: Vec, v: Vec): number {
  const n = norm(v);
  if (n === 0) {
    throw new RangeError("the direction has zero length; check the vector row and layer");
  }
  return dot(a, v) / n;
}

/**
 * `a · b / (‖a‖ ‖b‖)`; NaN when either is zero.
 *
 * @example
 * ```ts
 * import { cosineSimilarity } from "./projection.ts";
 * console.log(cosineSimilarity([1, 0], [1, 1])); // 0.7071067811865475
 * ```
 */
export function cosineSimilarity(a: Vec, b: Vec): number {
  const d = norm(a) * norm(b);
  return d === 0 ? NaN : dot(a, b) / d;
}

/** Projection metrics of one sample at one layer. */
export interface ProjectionMetrics {
  /** response_avg projected onto v. */
  proj: number;
  /** hs[L][P−1] projected onto v. */
  prompt_last_proj: number;
  /** prompt_avg projected onto v. */
  prompt_avg_proj: number;
  /** cosine of response_avg with v. */
  cos_sim: number;
}

function summaryRow(s: Float64Array, layer: number, d: number): Float64Array {
  return s.subarray(layer * d, (layer + 1) * d);
}

function checkLayer(hs: HiddenStates, vector: LayerVectors, layer: number): void {
  if (vector.rows !== hs.rows || vector.cols !== hs.hidden) {
    throw new RangeError(
      `vector is [${vector.rows}, ${vector.cols}] but hidden states are [${hs.rows}, *, ${hs.hidden}]; ` +
        `use a vector extracted from the same model`,
    );
  }
  layerRow(vector, layer);
}

/**
 * All projection metrics of one sample (`hs` over prompt + answer, `promptLength` = P) at
 * hidden-state index `layer`.
 *
 * @example
 * ```ts
 * import { hiddenStatesFromNested } from "./hidden_states.ts";
 * import { projectionMetrics } from "./projection.ts";
 * const hs = hiddenStatesFromNested([[[0, 0], [0, 0]], [[1, 0], [3, 4]]]);
 * const v = { rows: 2, cols: 2, data: new Float32Array([0, 0, 1, 0]) };
 * console.log(projectionMetrics(hs, 1, v, 1).proj); // 3
 * ```
 */
export function projectionMetrics(
  hs: HiddenStates,
  promptLength: number,
  vector: LayerVectors,
  layer: number,
): ProjectionMetrics {
  checkLayer(hs, vector, layer);
  const s = summarizeSample(hs, promptLength);
  const v = layerRow(vector, layer);
  const d = hs.hidden;
  const resp = summaryRow(s.response_avg, layer, d);
  return {
    proj: scalarProjection(resp, v),
    prompt_last_proj: scalarProjection(summaryRow(s.prompt_last, layer, d), v),
    prompt_avg_proj: scalarProjection(summaryRow(s.prompt_avg, layer, d), v),
    cos_sim: cosineSimilarity(resp, v),
  };
}

/**
 * Finetuning shift of one sample: `(summary_ft − summary_base) · v / ‖v‖` on identical text run
 * through the finetuned and the base model; the scripts use `prompt_last`.
 *
 * @example
 * ```ts
 * import { hiddenStatesFromNested } from "./hidden_states.ts";
 * import { finetuningShift } from "./projection.ts";
 * const ft = hiddenStatesFromNested([[[0], [0]], [[5], [1]]]);
 * const base = hiddenStatesFromNested([[[0], [0]], [[2], [1]]]);
 * console.log(finetuningShift(ft, base, 1, { rows: 2, cols: 1, data: new Float32Array([0, 2]) }, 1)); // 3
 * ```
 */
export function finetuningShift(
  finetuned: HiddenStates,
  base: HiddenStates,
  promptLength: number,
  vector: LayerVectors,
  layer: number,
  type: "prompt_last" | "prompt_avg" | "response_avg" = "prompt_last",
): number {
  checkLayer(finetuned, vector, layer);
  checkLayer(base, vector, layer);
  if (finetuned.tokens !== base.tokens) {
    throw new RangeError(
      `finetuned and base states cover ${finetuned.tokens} and ${base.tokens} tokens; run both on identical text`,
    );
  }
  const d = finetuned.hidden;
  const a = summaryRow(summarizeSample(finetuned, promptLength)[type], layer, d);
  const b = summaryRow(summarizeSample(base, promptLength)[type], layer, d);
  return scalarProjection(a.map((x, i) => x - b[i]), layerRow(vector, layer));
}

/**
 * Mean of a list; NaN for an empty list.
 *
 * @example
 * ```ts
 * import { mean } from "./projection.ts";
 * console.log(mean([1, 2, 6])); // 3
 * ```
 */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Data screening: mean projection of the training responses minus mean projection of the base
 * model's own responses to the same prompts. High values flag data that will shift the persona.
 *
 * @example
 * ```ts
 * import { projectionDifference } from "./projection.ts";
 * console.log(projectionDifference([4, 6], [1, 1, 1])); // 4
 * ```
 */
export function projectionDifference(
  trainingProjections: readonly number[],
  baseProjections: readonly number[],
): number {
  return mean(trainingProjections) - mean(baseProjections);
}

/**
 * Directional ablation: `h − (h·u) u` with `u = v / ‖v‖`. Returns a new array.
 *
 * @example
 * ```ts
 * import { ablate } from "./projection.ts";
 * console.log(ablate([3, 4], [0, 2])); // Float64Array [3, 0]
 * ```
 */
export function ablate(h: Vec, v: Vec): Float64Array {
  const n = norm(v);
  if (n === 0) {
    throw new RangeError("cannot ablate a zero-length direction; check the vector row and layer");
  }
  const k = dot(h, v) / (n * n);
  const out = new Float64Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = h[i] - k * v[i];
  return out;
}

/**
 * The result column name: `{model}_{vectorStem}_{type}_layer{L}[_finetuning_shift]`.
 *
 * @example
 * ```ts
 * import { projectionColumnName } from "./projection.ts";
 * console.log(projectionColumnName("qwen", "evil_response_avg_diff", "proj", 20)); // "qwen_evil_response_avg_diff_proj_layer20"
 * ```
 */
export function projectionColumnName(
  modelBasename: string,
  vectorStem: string,
  type: string,
  layer: number,
  finetuningShift = false,
): string {
  return `${modelBasename}_${vectorStem}_${type}_layer${layer}${
    finetuningShift ? "_finetuning_shift" : ""
  }`;
}
