/**
 * Pure scoring functions of the trait and coherence judges (spec B3). Every mode reports on a
 * 0–100 scale so the same thresholds apply; `null` means refusal or failure (it fails every
 * threshold later), never zero.
 *
 * @module
 */

/** One alternative of a first-token distribution, as in OpenAI `top_logprobs`. */
export interface TopLogprob {
  token: string;
  logprob: number;
}

/** A judge score or `null` with why, plus the probability mass the score was computed from. */
export interface JudgeScore {
  score: number | null;
  /** Probability mass on the tokens the mode reads. */
  mass: number;
  reason?: string;
}

/** The numeric mass below which a 0–100 score is null. */
export const MIN_NUMERIC_MASS = 0.25;

/**
 * Removes any reasoning block: everything up to and including the last `</think>`.
 *
 * @example
 * ```ts
 * import { stripThinking } from "./judge_scoring.ts";
 * console.log(stripThinking("<think>hmm</think>\nHello")); // "Hello"
 * ```
 */
export function stripThinking(answer: string): string {
  const i = answer.lastIndexOf("</think>");
  return i < 0 ? answer : answer.slice(i + "</think>".length).trim();
}

function intToken(token: string, max: number): number | undefined {
  if (!/^\s*\d{1,3}\s*$/.test(token)) return undefined;
  const k = Number(token.trim());
  return k <= max ? k : undefined;
}

/**
 * Expected value over candidates `{value, logprob}`: `Σ k·p / Σ p` with `p = exp(logprob)`, null
 * when `Σ p < minMass`. The building block of both the API and the local judge.
 *
 * @example
 * ```ts
 * import { expectedScore } from "./judge_scoring.ts";
 * console.log(expectedScore([{ value: 0, logprob: Math.log(0.25) }, { value: 100, logprob: Math.log(0.25) }]).score); // 50
 * ```
 */
export function expectedScore(
  candidates: readonly { value: number; logprob: number }[],
  minMass = MIN_NUMERIC_MASS,
): JudgeScore {
  let mass = 0;
  let sum = 0;
  for (const c of candidates) {
    const p = Math.exp(c.logprob);
    mass += p;
    sum += c.value * p;
  }
  if (mass === 0 || mass < minMass) {
    return {
      score: null,
      mass,
      reason: `numeric probability mass ${mass.toFixed(4)} is below ${minMass}`,
    };
  }
  return { score: sum / mass, mass };
}

/**
 * The 0–100 logprob-weighted score from first-token `top_logprobs`: tokens that parse as integers
 * 0..100 are weighted by their probability; null below 0.25 numeric mass.
 *
 * @example
 * ```ts
 * import { score0to100 } from "./judge_scoring.ts";
 * const top = [{ token: "80", logprob: Math.log(0.5) }, { token: "60", logprob: Math.log(0.3) },
 *   { token: "REF", logprob: Math.log(0.2) }];
 * console.log(score0to100(top).score); // 72.5
 * ```
 */
export function score0to100(top: readonly TopLogprob[], minMass = MIN_NUMERIC_MASS): JudgeScore {
  const c: { value: number; logprob: number }[] = [];
  for (const t of top) {
    const k = intToken(t.token, 100);
    if (k !== undefined) c.push({ value: k, logprob: t.logprob });
  }
  return expectedScore(c, minMass);
}

/**
 * The local-judge variant: given the full next-token log-distribution and, for k = 0..100, the
 * token id that spells k (or -1 when k is not a single token), restricts the distribution to those
 * tokens and applies the same expectation and mass floor. `logDistribution` must be log-softmaxed.
 *
 * @example
 * ```ts
 * import { localNumberScore } from "./judge_scoring.ts";
 * const logp = [Math.log(0.6), Math.log(0.4)];
 * const ids = Array.from({ length: 101 }, (_, k) => (k === 0 ? 0 : k === 100 ? 1 : -1));
 * console.log(localNumberScore(logp, ids).score); // 40
 * ```
 */
export function localNumberScore(
  logDistribution: ArrayLike<number>,
  numberTokenIds: readonly number[],
  minMass = MIN_NUMERIC_MASS,
): JudgeScore {
  if (numberTokenIds.length !== 101) {
    throw new RangeError(
      `numberTokenIds has ${numberTokenIds.length} entries; pass 101 ids (index k spells k, -1 if none)`,
    );
  }
  const c: { value: number; logprob: number }[] = [];
  for (let k = 0; k <= 100; k++) {
    const id = numberTokenIds[k];
    if (id < 0) continue;
    if (!Number.isInteger(id) || id >= logDistribution.length) {
      throw new RangeError(
        `token id ${id} for number ${k} is outside the vocabulary of ${logDistribution.length}`,
      );
    }
    c.push({ value: k, logprob: logDistribution[id] });
  }
  return expectedScore(c, minMass);
}

function refusalProb(top: readonly TopLogprob[]): number {
  return top.filter((t) => /^\s*REF/i.test(t.token)).reduce((a, t) => a + Math.exp(t.logprob), 0);
}

/**
 * The `0_10` mode: expectation over the digit tokens 0..9, reported ×10 on 0–100; null when a
 * REFUSAL token is more probable than every digit, or when no digit is present.
 *
 * @example
 * ```ts
 * import { score0to10 } from "./judge_scoring.ts";
 * console.log(score0to10([{ token: "7", logprob: Math.log(0.5) }, { token: "9", logprob: Math.log(0.5) }]).score); // 80
 * ```
 */
export function score0to10(top: readonly TopLogprob[]): JudgeScore {
  let mass = 0, sum = 0, best = 0;
  for (const t of top) {
    const k = intToken(t.token, 9);
    if (k === undefined || t.token.trim().length !== 1) continue;
    const p = Math.exp(t.logprob);
    mass += p;
    sum += k * p;
    best = Math.max(best, p);
  }
  const refusal = refusalProb(top);
  if (mass === 0) return { score: null, mass, reason: "no digit token among the alternatives" };
  if (refusal > best) {
    return { score: null, mass, reason: `REFUSAL (p=${refusal.toFixed(4)}) beats every digit` };
  }
  return { score: (10 * sum) / mass, mass };
}

/**
 * The `binary` mode: `100 · P(YES) / (P(YES) + P(NO))`; null when REFUSAL is more probable than
 * YES and NO together, or when their mass is below the floor.
 *
 * @example
 * ```ts
 * import { scoreBinary } from "./judge_scoring.ts";
 * console.log(scoreBinary([{ token: "YES", logprob: Math.log(0.6) }, { token: "NO", logprob: Math.log(0.2) }]).score); // 75
 * ```
 */
export function scoreBinary(top: readonly TopLogprob[], minMass = MIN_NUMERIC_MASS): JudgeScore {
  let yes = 0, no = 0;
  for (const t of top) {
    const w = t.token.trim().toUpperCase();
    if (w === "YES") yes += Math.exp(t.logprob);
    else if (w === "NO") no += Math.exp(t.logprob);
  }
  const mass = yes + no;
  const refusal = refusalProb(top);
  if (refusal > mass) {
    return { score: null, mass, reason: `REFUSAL (p=${refusal.toFixed(4)}) dominates YES/NO` };
  }
  if (mass === 0 || mass < minMass) {
    return { score: null, mass, reason: `YES/NO mass ${mass.toFixed(4)} is below ${minMass}` };
  }
  return { score: (100 * yes) / mass, mass };
}

/**
 * The `binary_text` mode: reads `<answer>YES|NO|REFUSAL</answer>` from generated text (YES → 100,
 * NO → 0, REFUSAL or no tag → null).
 *
 * @example
 * ```ts
 * import { scoreBinaryText } from "./judge_scoring.ts";
 * console.log(scoreBinaryText("because... <answer>YES</answer>").score); // 100
 * ```
 */
export function scoreBinaryText(text: string): JudgeScore {
  const m = /<answer>\s*(YES|NO|REFUSAL)\s*<\/answer>/i.exec(text);
  if (!m) return { score: null, mass: 0, reason: "no <answer>YES|NO|REFUSAL</answer> tag" };
  const v = m[1].toUpperCase();
  if (v === "REFUSAL") return { score: null, mass: 1, reason: "judge answered REFUSAL" };
  return { score: v === "YES" ? 100 : 0, mass: 1 };
}
