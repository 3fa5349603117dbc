/**
 * Persona-vector extraction (spec B4): per-sample summaries of the hidden states (prompt_avg,
 * response_avg, prompt_last), then per-layer mean differences between kept positive and negative
 * samples, giving float32 `[L+1, d]` vectors. No normalisation is applied.
 *
 * @module
 */

import { type HiddenStates, type LayerVectors, tokenState } from "./hidden_states.ts";

/** The three summary types. */
export const VECTOR_TYPES = ["prompt_avg", "response_avg", "prompt_last"] as const;
/** One summary type. */
export type VectorType = typeof VECTOR_TYPES[number];

/** Per-layer summaries `[L+1][d]` (float64) of one sample. */
export type SampleSummaries = Record<VectorType, Float64Array>;

/**
 * Summarises one sample given the prompt length `P` (tokens of the prompt alone):
 * `prompt_avg = mean_{t<P} hs[l][t]`, `response_avg = mean_{t≥P} hs[l][t]`,
 * `prompt_last = hs[l][P−1]`, for every row l.
 *
 * @example
 * ```ts
 * import { hiddenStatesFromNested } from "./hidden_states.ts";
 * import { summarizeSample } from "./vectors.ts";
 * const s = summarizeSample(hiddenStatesFromNested([[[1], [3], [10]]]), 2);
 * console.log(s.prompt_avg[0], s.response_avg[0], s.prompt_last[0]); // 2 10 3
 * ```
 */
export function summarizeSample(hs: HiddenStates, promptLength: number): SampleSummaries {
  const P = promptLength;
  if (!Number.isInteger(P) || P < 1 || P >= hs.tokens) {
    throw new RangeError(
      `prompt length is ${P} for a sequence of ${hs.tokens} tokens; it must be in 1..${
        hs.tokens - 1
      } ` +
        `so that both the prompt and the response have at least one token`,
    );
  }
  const d = hs.hidden;
  const out: SampleSummaries = {
    prompt_avg: new Float64Array(hs.rows * d),
    response_avg: new Float64Array(hs.rows * d),
    prompt_last: new Float64Array(hs.rows * d),
  };
  for (let l = 0; l < hs.rows; l++) {
    const o = l * d;
    for (let t = 0; t < hs.tokens; t++) {
      const x = tokenState(hs, l, t);
      const target = t < P ? out.prompt_avg : out.response_avg;
      for (let j = 0; j < d; j++) target[o + j] += x[j];
    }
    for (let j = 0; j < d; j++) {
      out.prompt_avg[o + j] /= P;
      out.response_avg[o + j] /= hs.tokens - P;
    }
    out.prompt_last.set(tokenState(hs, l, P - 1), o);
  }
  return out;
}

/**
 * Accumulates summaries of kept positive and negative samples without keeping them, then returns
 * `mean(pos) − mean(neg)` per type as float32 `[L+1, d]`.
 *
 * @example
 * ```ts
 * import { hiddenStatesFromNested } from "./hidden_states.ts";
 * import { VectorAccumulator } from "./vectors.ts";
 * const acc = new VectorAccumulator();
 * acc.add("pos", hiddenStatesFromNested([[[0], [4]]]), 1);
 * acc.add("neg", hiddenStatesFromNested([[[0], [1]]]), 1);
 * console.log(acc.result().response_avg.data[0]); // 3
 * ```
 */
export class VectorAccumulator {
  #sums: Record<"pos" | "neg", SampleSummaries | undefined> = { pos: undefined, neg: undefined };
  #counts = { pos: 0, neg: 0 };
  #rows = 0;
  #cols = 0;

  /** Samples added per polarity. */
  get counts(): { pos: number; neg: number } {
    return { ...this.#counts };
  }

  /** Adds one kept sample. */
  add(polarity: "pos" | "neg", hs: HiddenStates, promptLength: number): void {
    this.addSummaries(polarity, summarizeSample(hs, promptLength), hs.rows, hs.hidden);
  }

  /** Adds precomputed summaries of shape `[rows][cols]`. */
  addSummaries(polarity: "pos" | "neg", s: SampleSummaries, rows: number, cols: number): void {
    if (this.#rows === 0) {
      this.#rows = rows;
      this.#cols = cols;
    } else if (rows !== this.#rows || cols !== this.#cols) {
      throw new RangeError(
        `sample has shape [${rows}, ${cols}] but earlier samples have [${this.#rows}, ${this.#cols}]; ` +
          `use one model for all samples`,
      );
    }
    const sum = this.#sums[polarity] ??= {
      prompt_avg: new Float64Array(rows * cols),
      response_avg: new Float64Array(rows * cols),
      prompt_last: new Float64Array(rows * cols),
    };
    for (const t of VECTOR_TYPES) for (let i = 0; i < sum[t].length; i++) sum[t][i] += s[t][i];
    this.#counts[polarity]++;
  }

  /** The three mean-difference vectors. */
  result(): Record<VectorType, LayerVectors> {
    const { pos, neg } = this.#sums;
    if (!pos || !neg) {
      throw new RangeError(
        `need at least one kept positive and one kept negative sample (have ${this.#counts.pos} and ` +
          `${this.#counts.neg}); lower the thresholds or generate more rollouts`,
      );
    }
    const out = {} as Record<VectorType, LayerVectors>;
    for (const t of VECTOR_TYPES) {
      const data = new Float32Array(this.#rows * this.#cols);
      for (let i = 0; i < data.length; i++) {
        data[i] = pos[t][i] / this.#counts.pos - neg[t][i] / this.#counts.neg;
      }
      out[t] = { rows: this.#rows, cols: this.#cols, data };
    }
    return out;
  }
}

/**
 * Mean-difference vectors from lists of `{hs, promptLength}` (positive and negative, already
 * filtered).
 *
 * @example
 * ```ts
 * import { hiddenStatesFromNested } from "./hidden_states.ts";
 * import { meanDifferenceVectors } from "./vectors.ts";
 * const v = meanDifferenceVectors([{ hs: hiddenStatesFromNested([[[2], [6]]]), promptLength: 1 }],
 *   [{ hs: hiddenStatesFromNested([[[0], [0]]]), promptLength: 1 }]);
 * console.log(v.prompt_last.data[0], v.response_avg.data[0]); // 2 6
 * ```
 */
export function meanDifferenceVectors(
  pos: readonly { hs: HiddenStates; promptLength: number }[],
  neg: readonly { hs: HiddenStates; promptLength: number }[],
): Record<VectorType, LayerVectors> {
  const acc = new VectorAccumulator();
  for (const s of pos) acc.add("pos", s.hs, s.promptLength);
  for (const s of neg) acc.add("neg", s.hs, s.promptLength);
  return acc.result();
}
