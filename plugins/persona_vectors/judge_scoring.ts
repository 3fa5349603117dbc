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

/** One way the judge can write the number `value`: the token ids that follow the prompt. */
export interface NumberSequence {
  value: number;
  ids: readonly number[];
}

/** Options of {@link numberSequenceScore}. */
export interface NumberSequenceOptions {
  /** Mass floor (default 0.25). */
  minMass?: number;
  /**
   * Prefixes less probable than this are not expanded (default 1e-6): the mass they could add is
   * at most this much each, far below any floor.
   */
  minPrefixProb?: number;
}

/**
 * The local-judge score over whole number sequences (spec B3, local-judge note, for any
 * tokenizer): each candidate's probability is the product of its tokens' conditional
 * probabilities times the probability that the number ends there (the next token does not
 * continue it with another digit, so "8" does not absorb 80–89); probabilities of candidates with
 * the same value add up; then the published expectation and mass floor apply.
 *
 * `next(prefixes)` returns, for each prefix of candidate tokens (after the prompt), the
 * log-softmaxed next-token distribution; it is called once per depth with every prefix worth
 * expanding. `continues(id)` says whether token `id` would extend a number (starts with a digit).
 *
 * @example
 * ```ts
 * import { numberSequenceScore } from "./judge_scoring.ts";
 * // Vocabulary: 0 = "8", 1 = "5", 2 = end. After the prompt "8"; after "8" mostly "5".
 * const table: Record<string, number[]> = { "": [1, 0, 0], "0": [0, 0.9, 0.1], "0,1": [0, 0, 1] };
 * const next = (ps: number[][]) => Promise.resolve(ps.map((p) => table[p.join()].map(Math.log)));
 * const s = await numberSequenceScore(next, [{ value: 8, ids: [0] }, { value: 85, ids: [0, 1] }],
 *   (id) => id !== 2);
 * console.log(s.score); // 0.1·8 + 0.9·85 = 77.3
 * ```
 */
export async function numberSequenceScore(
  next: (prefixes: number[][]) => Promise<ArrayLike<number>[]>,
  candidates: readonly NumberSequence[],
  continues: (id: number) => boolean,
  options: NumberSequenceOptions = {},
): Promise<JudgeScore> {
  const minPrefix = options.minPrefixProb ?? 1e-6;
  // logprob of each prefix (keyed by its ids), and the distribution after it once computed.
  const logp = new Map<string, number>([["", 0]]);
  const dist = new Map<string, ArrayLike<number>>();
  const depth = Math.max(0, ...candidates.map((c) => c.ids.length));
  const wanted = (k: number) => {
    const out = new Map<string, number[]>();
    for (const c of candidates) {
      if (c.ids.length < k) continue;
      const key = c.ids.slice(0, k).join();
      if (!out.has(key)) out.set(key, c.ids.slice(0, k));
    }
    return out;
  };
  for (let k = 0; k <= depth; k++) {
    const todo: number[][] = [];
    for (const [key, ids] of wanted(k)) {
      if (k > 0) {
        const parent = ids.slice(0, k - 1).join();
        const pd = dist.get(parent);
        if (!pd) continue;
        logp.set(key, logp.get(parent)! + pd[ids[k - 1]]);
      }
      if (Math.exp(logp.get(key)!) >= minPrefix) todo.push(ids);
    }
    if (todo.length === 0) continue;
    const rows = await next(todo);
    todo.forEach((ids, i) => dist.set(ids.join(), rows[i]));
  }
  const endLogprob = (d: ArrayLike<number>) => {
    let cont = 0;
    for (let id = 0; id < d.length; id++) if (continues(id)) cont += Math.exp(d[id]);
    return Math.log(Math.max(0, 1 - cont));
  };
  const ends = new Map<string, number>();
  const scored: { value: number; logprob: number }[] = [];
  for (const c of candidates) {
    const key = c.ids.join();
    const d = dist.get(key);
    if (!d) continue; // never expanded: less probable than minPrefixProb
    if (!ends.has(key)) ends.set(key, endLogprob(d));
    scored.push({ value: c.value, logprob: logp.get(key)! + ends.get(key)! });
  }
  return expectedScore(scored, options.minMass ?? MIN_NUMERIC_MASS);
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
