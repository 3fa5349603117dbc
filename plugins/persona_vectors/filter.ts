/**
 * Pair filtering before vector extraction (spec B4): a row pair is kept when the positive rollout
 * shows the trait, the negative one does not, and both are coherent. Null scores fail every test.
 *
 * @module
 */

/** The scores of one rollout. */
export interface ScoredRollout {
  trait: number | null;
  coherence: number | null;
}

/** Thresholds; both default to 50. */
export interface FilterThresholds {
  trait?: number;
  coherence?: number;
}

/**
 * Whether a pair passes: `pos.trait ≥ t`, `neg.trait < 100 − t`, `pos.coherence ≥ c`,
 * `neg.coherence ≥ c`.
 *
 * @example
 * ```ts
 * import { keepPair } from "./filter.ts";
 * console.log(keepPair({ trait: 70, coherence: 80 }, { trait: 10, coherence: 90 })); // true
 * ```
 */
export function keepPair(
  pos: ScoredRollout,
  neg: ScoredRollout,
  thresholds: FilterThresholds = {},
): boolean {
  const t = thresholds.trait ?? 50;
  const c = thresholds.coherence ?? 50;
  if (
    pos.trait === null || neg.trait === null || pos.coherence === null || neg.coherence === null
  ) return false;
  return pos.trait >= t && neg.trait < 100 - t && pos.coherence >= c && neg.coherence >= c;
}

/**
 * The indices of kept pairs.
 *
 * @example
 * ```ts
 * import { filterPairs } from "./filter.ts";
 * const good = { pos: { trait: 90, coherence: 90 }, neg: { trait: 0, coherence: 90 } };
 * console.log(filterPairs([good, { ...good, neg: { trait: null, coherence: 90 } }])); // [0]
 * ```
 */
export function filterPairs(
  pairs: readonly { pos: ScoredRollout; neg: ScoredRollout }[],
  thresholds: FilterThresholds = {},
): number[] {
  const kept: number[] = [];
  pairs.forEach((p, i) => {
    if (keepPair(p.pos, p.neg, thresholds)) kept.push(i);
  });
  return kept;
}
