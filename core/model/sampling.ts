/**
 * Next-token selection over one row of logits: repetition penalty, a logits mask for constrained
 * decoding, temperature, top-k, top-p (nucleus), greedy choice, seeded sampling, log-softmax and
 * top-k log-probabilities. All functions are pure or work in place on a `Float32Array` the caller
 * owns; none allocate vocabulary-sized sort buffers unless top-p needs them.
 *
 * Order of processing (the Hugging Face order): repetition penalty → mask → temperature → top-k →
 * top-p → pick. Log-probabilities are reported from the distribution *after* penalty, mask and
 * temperature but *before* top-k / top-p truncation (temperature 0 counts as 1), which is what the
 * OpenAI `logprobs` / `top_logprobs` fields describe: the model's distribution the token was drawn
 * from, not a renormalized nucleus where the kept tokens would look more likely than they are.
 *
 * @module
 */

import { withCode } from "../errors.ts";
import type { Prng } from "../util/prng.ts";

/** Tokens a constrained decoder allows at one step: a set/list of ids or a 0/1 mask over the vocab. */
export type AllowedTokens = Iterable<number> | Uint8Array;

/** What the logits-mask hook sees. */
export interface MaskContext {
  /** Batch row (completion) index. */
  row: number;
  /** Tokens generated so far in this row (not the prompt). */
  generated: readonly number[];
}

/** Options that decide how one token is chosen. */
export interface SamplingOptions {
  /** 0 (default) = greedy; > 0 divides the logits before sampling. */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 or undefined = off. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose mass reaches p; 1 or undefined = off. */
  topP?: number;
  /** HF semantics: > 1 discourages tokens already in the sequence; 1 or undefined = off. */
  repetitionPenalty?: number;
  /**
   * Constrained-decoding hook: the tokens allowed at generation step `step` (0-based), or
   * null/undefined for no restriction. Disallowed tokens get probability 0.
   */
  allowedTokens?: (step: number, context: MaskContext) => AllowedTokens | null | undefined;
}

function bad(err: Error): Error {
  return withCode(err, "E_USAGE");
}

/**
 * Checks sampling options up front and returns them with defaults filled in.
 *
 * @example
 * ```ts
 * import { validateSampling } from "./sampling.ts";
 * const s = validateSampling({ temperature: 0.7, topP: 0.9 });
 * console.log(s.topK); // 0
 * ```
 */
export function validateSampling(
  options: SamplingOptions = {},
): Required<Omit<SamplingOptions, "allowedTokens">> & Pick<SamplingOptions, "allowedTokens"> {
  const { temperature = 0, topK = 0, topP = 1, repetitionPenalty = 1 } = options;
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw bad(new RangeError(`temperature is ${temperature}; pass a number >= 0 (0 = greedy)`));
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw bad(new RangeError(`topK is ${topK}; pass a whole number >= 0 (0 = off)`));
  }
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1) {
    throw bad(new RangeError(`topP is ${topP}; pass a number in (0, 1] (1 = off)`));
  }
  if (!Number.isFinite(repetitionPenalty) || repetitionPenalty <= 0) {
    throw bad(
      new RangeError(`repetitionPenalty is ${repetitionPenalty}; pass a number > 0 (1 = off)`),
    );
  }
  if (options.allowedTokens !== undefined && typeof options.allowedTokens !== "function") {
    throw bad(new TypeError("allowedTokens is not a function; pass (step, context) => ids | null"));
  }
  return { temperature, topK, topP, repetitionPenalty, allowedTokens: options.allowedTokens };
}

/**
 * HF repetition penalty, in place: for every distinct token already in the sequence, a positive
 * logit is divided by `penalty` and a negative one multiplied by it.
 *
 * @example
 * ```ts
 * import { applyRepetitionPenalty } from "./sampling.ts";
 * const l = new Float32Array([2, -2, 1]);
 * applyRepetitionPenalty(l, [0, 1, 1], 2); // l = [1, -4, 1]
 * ```
 */
export function applyRepetitionPenalty(
  logits: Float32Array,
  tokens: Iterable<number>,
  penalty: number,
): Float32Array {
  if (penalty === 1) return logits;
  for (const t of new Set(tokens)) {
    if (t < 0 || t >= logits.length) continue;
    const v = logits[t];
    logits[t] = v > 0 ? v / penalty : v * penalty;
  }
  return logits;
}

/**
 * Sets every token outside `allowed` to -Infinity, in place. Throws when nothing is allowed.
 *
 * @example
 * ```ts
 * import { applyAllowedTokens } from "./sampling.ts";
 * applyAllowedTokens(new Float32Array([1, 2, 3]), [0, 2]); // [1, -Infinity, 3]
 * ```
 */
export function applyAllowedTokens(logits: Float32Array, allowed: AllowedTokens): Float32Array {
  const keep = new Uint8Array(logits.length);
  if (allowed instanceof Uint8Array) {
    if (allowed.length !== logits.length) {
      throw bad(
        new RangeError(
          `allowedTokens mask has length ${allowed.length}; it must equal the vocabulary size ${logits.length}`,
        ),
      );
    }
    keep.set(allowed);
  } else {
    for (const t of allowed) if (t >= 0 && t < logits.length) keep[t] = 1;
  }
  let any = false;
  for (let i = 0; i < logits.length; i++) {
    if (!keep[i]) logits[i] = -Infinity;
    else if (logits[i] !== -Infinity) any = true;
  }
  if (!any) {
    throw bad(
      new RangeError("allowedTokens allows no token of the vocabulary; allow at least one"),
    );
  }
  return logits;
}

/**
 * Divides the logits by `temperature` in place (no-op for 0 and 1).
 *
 * @example
 * ```ts
 * import { applyTemperature } from "./sampling.ts";
 * applyTemperature(new Float32Array([2, 4]), 2); // [1, 2]
 * ```
 */
export function applyTemperature(logits: Float32Array, temperature: number): Float32Array {
  if (temperature === 0 || temperature === 1) return logits;
  for (let i = 0; i < logits.length; i++) logits[i] /= temperature;
  return logits;
}

/**
 * Indices of the `k` largest values, largest first (ties: lower index first).
 *
 * @example
 * ```ts
 * import { topKIndices } from "./sampling.ts";
 * topKIndices(new Float32Array([0.1, 3, 2]), 2); // [1, 2]
 * ```
 */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  k = Math.min(k, values.length);
  if (k <= 0) return [];
  // A min-heap of the best k seen so far; "worse" = smaller value, or equal value and larger index.
  const heap: number[] = [];
  const worse = (a: number, b: number) =>
    values[a] < values[b] || (values[a] === values[b] && a > b);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l], heap[m])) m = l;
      if (r < heap.length && worse(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < values.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let j = heap.length - 1; j > 0;) {
        const p = (j - 1) >> 1;
        if (!worse(heap[j], heap[p])) break;
        [heap[j], heap[p]] = [heap[p], heap[j]];
        j = p;
      }
    } else if (worse(heap[0], i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => values[b] - values[a] || a - b);
}

/**
 * Keeps the `k` largest logits and sets the rest to -Infinity, in place (0 = off).
 *
 * @example
 * ```ts
 * import { applyTopK } from "./sampling.ts";
 * applyTopK(new Float32Array([1, 3, 2]), 2); // [-Infinity, 3, 2]
 * ```
 */
export function applyTopK(logits: Float32Array, k: number): Float32Array {
  if (k <= 0 || k >= logits.length) return logits;
  const keep = topKIndices(logits, k);
  const saved = keep.map((i) => logits[i]);
  logits.fill(-Infinity);
  keep.forEach((i, j) => logits[i] = saved[j]);
  return logits;
}

/**
 * Nucleus filter in place: keeps the smallest set of most likely tokens whose probability mass
 * reaches `p` (the token that crosses `p` is kept, so at least one token always survives).
 *
 * @example
 * ```ts
 * import { applyTopP } from "./sampling.ts";
 * // probabilities ≈ [0.09, 0.67, 0.24]: p = 0.7 keeps tokens 1 and 2
 * applyTopP(new Float32Array([0, 2, 1]), 0.7);
 * ```
 */
export function applyTopP(logits: Float32Array, p: number): Float32Array {
  if (p >= 1) return logits;
  const probs = softmax(logits);
  let max = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > max) max = probs[i];
  // Sort only tokens above a threshold; lower it until their mass reaches p. Every token above the
  // threshold precedes every token below it in sorted order, so the nucleus is found exactly.
  let threshold = max * 1e-4;
  for (;;) {
    const cand: number[] = [];
    for (let i = 0; i < probs.length; i++) if (probs[i] >= threshold) cand.push(i);
    cand.sort((a, b) => probs[b] - probs[a] || a - b);
    let cum = 0;
    let cut = -1;
    for (let j = 0; j < cand.length; j++) {
      cum += probs[cand[j]];
      if (cum >= p) {
        cut = j;
        break;
      }
    }
    if (cut >= 0 || threshold === 0) {
      if (cut < 0) cut = cand.length - 1;
      const keep = new Uint8Array(logits.length);
      for (let j = 0; j <= cut; j++) keep[cand[j]] = 1;
      for (let i = 0; i < logits.length; i++) if (!keep[i]) logits[i] = -Infinity;
      return logits;
    }
    threshold = threshold > max * 1e-12 ? threshold * 1e-4 : 0;
  }
}

/**
 * Softmax in float64 accumulation, returned as Float64Array.
 *
 * @example
 * ```ts
 * import { softmax } from "./sampling.ts";
 * softmax(new Float32Array([0, 0])); // [0.5, 0.5]
 * ```
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  const out = new Float64Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = logits[i] === -Infinity ? 0 : Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * Log-softmax (float64): `x_i - max - log Σ exp(x_j - max)`.
 *
 * @example
 * ```ts
 * import { logSoftmax } from "./sampling.ts";
 * logSoftmax(new Float32Array([0, 0])); // [-0.693…, -0.693…]
 * ```
 */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] !== -Infinity) sum += Math.exp(logits[i] - max);
  }
  const lse = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/**
 * Index of the largest logit (first one on ties).
 *
 * @example
 * ```ts
 * import { greedy } from "./sampling.ts";
 * greedy(new Float32Array([1, 5, 5])); // 1
 * ```
 */
export function greedy(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Draws one token from softmax(logits) with one uniform number from `prng`.
 *
 * @example
 * ```ts
 * import { sampleCategorical } from "./sampling.ts";
 * import { Prng } from "../util/prng.ts";
 * sampleCategorical(new Float32Array([0, 0, -Infinity]), new Prng(1)); // 0 or 1
 * ```
 */
export function sampleCategorical(logits: ArrayLike<number>, prng: Prng): number {
  const probs = softmax(logits);
  const u = prng.next();
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cum += probs[i];
    last = i;
    if (u < cum) return i;
  }
  return last; // u landed in the rounding gap above the final cumulative sum
}

/** One alternative in a top-logprobs list. */
export interface TokenChoice {
  token: number;
  logprob: number;
}

/** The token chosen at one step with its log-probability and the top alternatives. */
export interface SelectedToken extends TokenChoice {
  /** The `topLogprobs` most likely tokens (most likely first); empty when not asked. */
  top: TokenChoice[];
}

/** Per-step inputs of {@link selectToken}. */
export interface SelectContext {
  /** Every real token of the row so far (prompt + generated), for the repetition penalty. */
  sequence: Iterable<number>;
  /** Tokens generated so far in this row. */
  generated: readonly number[];
  /** Batch row index (passed to the mask hook). */
  row: number;
  /** The row's own random stream (needed when temperature > 0). */
  prng?: Prng;
  /** How many alternatives to report; 0 = none. */
  topLogprobs?: number;
  /** Compute the chosen token's log-probability (default true). */
  logprobs?: boolean;
}

/**
 * Chooses the next token from one row of logits. `logits` is modified in place.
 * The returned `logprob` and `top` come from the distribution after penalty, mask and temperature,
 * before top-k / top-p truncation (see the module doc).
 *
 * @example
 * ```ts
 * import { selectToken, validateSampling } from "./sampling.ts";
 * import { Prng } from "../util/prng.ts";
 * const opts = validateSampling({ temperature: 0.8, topK: 40 });
 * const pick = selectToken(new Float32Array([0.1, 2, 0.3]), opts, {
 *   sequence: [1], generated: [], row: 0, prng: new Prng(7), topLogprobs: 2,
 * });
 * console.log(pick.token, pick.logprob, pick.top);
 * ```
 */
export function selectToken(
  logits: Float32Array,
  options: ReturnType<typeof validateSampling>,
  context: SelectContext,
): SelectedToken {
  applyRepetitionPenalty(logits, context.sequence, options.repetitionPenalty);
  if (options.allowedTokens) {
    const allowed = options.allowedTokens(context.generated.length, {
      row: context.row,
      generated: context.generated,
    });
    if (allowed != null) applyAllowedTokens(logits, allowed);
  }
  applyTemperature(logits, options.temperature);
  const wantTop = context.topLogprobs ?? 0;
  const wantLp = (context.logprobs ?? true) || wantTop > 0;
  const lp = wantLp ? logSoftmax(logits) : undefined;
  let token: number;
  if (options.temperature === 0) {
    token = greedy(logits);
  } else {
    if (!context.prng) {
      throw bad(new TypeError("temperature > 0 needs a prng in the select context"));
    }
    applyTopK(logits, options.topK);
    applyTopP(logits, options.topP);
    token = sampleCategorical(logits, context.prng);
  }
  const top = lp && wantTop > 0
    ? topKIndices(lp, wantTop).map((t) => ({ token: t, logprob: lp[t] }))
    : [];
  return { token, logprob: lp ? lp[token] : NaN, top };
}
