/**
 * Scoring of the interview scales (spec A7): parsing a judge answer, the majority vote over the
 * judge's votes, reverse keying, and factor sums and means.
 *
 * @module
 */

import { SCALE_OPTIONS, type ScaleOption } from "./prompts.ts";

/**
 * Parses a scale judge answer: a JSON object with `option` A..E (surrounding text and code fences
 * are tolerated). Returns the option or `null` with the reason.
 *
 * @example
 * ```ts
 * import { parseScaleVerdict } from "./scale_scoring.ts";
 * console.log(parseScaleVerdict('{"option": "D", "desc": "often hosts"}')); // { option: "D" }
 * ```
 */
export function parseScaleVerdict(text: string): { option: ScaleOption; desc?: string } | {
  option: null;
  reason: string;
} {
  const m = /\{[\s\S]*\}/.exec(text);
  if (!m) return { option: null, reason: `no JSON object in ${JSON.stringify(text.slice(0, 80))}` };
  let obj: unknown;
  try {
    obj = JSON.parse(m[0]);
  } catch (e) {
    return { option: null, reason: `malformed JSON: ${(e as Error).message}` };
  }
  const raw = (obj as Record<string, unknown>)?.option;
  const opt = typeof raw === "string" ? raw.trim().replace(/^\(|\)$/g, "").toUpperCase() : raw;
  if (typeof opt !== "string" || !(SCALE_OPTIONS as readonly string[]).includes(opt)) {
    return { option: null, reason: `option is ${JSON.stringify(raw)}; expected one of A..E` };
  }
  const desc = (obj as Record<string, unknown>).desc;
  return typeof desc === "string"
    ? { option: opt as ScaleOption, desc }
    : { option: opt as ScaleOption };
}

/**
 * Majority vote over votes; `null` votes (failed judge calls) are ignored. Ties go to the option
 * seen earliest among the most common. All-null gives `null`.
 *
 * @example
 * ```ts
 * import { majorityVote } from "./scale_scoring.ts";
 * console.log(majorityVote(["B", "D", "D", "B", null])); // "B"
 * ```
 */
export function majorityVote<T extends string>(votes: readonly (T | null)[]): T | null {
  const counts = new Map<T, number>();
  for (const v of votes) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | null = null;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/**
 * Item score with keying: positively keyed A..E → 1..5, negatively keyed A..E → 5..1.
 *
 * @example
 * ```ts
 * import { itemScore } from "./scale_scoring.ts";
 * console.log(itemScore("E", "pos"), itemScore("E", "neg")); // 5 1
 * ```
 */
export function itemScore(option: ScaleOption, key: "pos" | "neg"): number {
  const i = SCALE_OPTIONS.indexOf(option);
  if (i < 0) throw new RangeError(`option is ${JSON.stringify(option)}; use one of A, B, C, D, E`);
  return key === "pos" ? i + 1 : 5 - i;
}

/** One answered item. */
export interface AnsweredItem {
  factor: string;
  key: "pos" | "neg";
  /** The majority option, or `null` when every judge call failed. */
  option: ScaleOption | null;
}

/** The score of one factor. */
export interface FactorScore {
  /** Sum of item scores over answered items (20..100 for a full factor). */
  sum: number;
  /** Mean item score (1..5), NaN when nothing was answered. */
  mean: number;
  answered: number;
  /** Items whose option is null (counted, never scored as 0). */
  missing: number;
}

/**
 * Sums and averages item scores per factor.
 *
 * @example
 * ```ts
 * import { scoreFactors } from "./scale_scoring.ts";
 * const s = scoreFactors([{ factor: "EXT", key: "pos", option: "E" }, { factor: "EXT", key: "neg", option: "B" }]);
 * console.log(s.EXT); // { sum: 9, mean: 4.5, answered: 2, missing: 0 }
 * ```
 */
export function scoreFactors(items: readonly AnsweredItem[]): Record<string, FactorScore> {
  const out: Record<string, FactorScore> = {};
  for (const it of items) {
    const s = out[it.factor] ??= { sum: 0, mean: NaN, answered: 0, missing: 0 };
    if (it.option === null) {
      s.missing++;
      continue;
    }
    s.sum += itemScore(it.option, it.key);
    s.answered++;
  }
  for (const s of Object.values(out)) s.mean = s.answered > 0 ? s.sum / s.answered : NaN;
  return out;
}

/**
 * Reads a factor mean as an expressed polarity: above 3 is `high`, below 3 is `low`, exactly 3
 * (or NaN) is `null`.
 *
 * @example
 * ```ts
 * import { expressedPolarity } from "./scale_scoring.ts";
 * console.log(expressedPolarity(3.4), expressedPolarity(2.1), expressedPolarity(3)); // high low null
 * ```
 */
export function expressedPolarity(mean: number): "high" | "low" | null {
  if (!Number.isFinite(mean) || mean === 3) return null;
  return mean > 3 ? "high" : "low";
}
