/**
 * Sentence BLEU as NLTK's `sentence_bleu` computes it with one reference, uniform 4-gram weights
 * and no smoothing (CoSER §1.7): clipped n-gram precisions, brevity penalty `exp(1 − r/c)` when
 * the hypothesis is shorter; 0 when no unigram matches; a precision with no match is replaced by
 * the smallest normal double (NLTK's `method0`), so the score is about 1e-77, not exactly 0.
 *
 * @module
 */

import { wordTokenize } from "./tokenize.ts";

/** Python's `sys.float_info.min`. */
const FLOAT_MIN = 2.2250738585072014e-308;

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join("\u0000");
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

/** Clipped n-gram matches and the hypothesis n-gram count (at least 1, as NLTK keeps it). */
export function modifiedPrecision(
  reference: readonly string[],
  hypothesis: readonly string[],
  n: number,
): { numerator: number; denominator: number } {
  const hyp = ngramCounts(hypothesis, n);
  const ref = ngramCounts(reference, n);
  let numerator = 0;
  let total = 0;
  for (const [g, c] of hyp) {
    numerator += Math.min(c, ref.get(g) ?? 0);
    total += c;
  }
  return { numerator, denominator: Math.max(1, total) };
}

/**
 * BLEU of token lists (one reference).
 *
 * @example
 * ```ts
 * import { bleuTokens } from "./bleu.ts";
 * const t = ["the", "cat", "sat", "on", "the", "mat"];
 * bleuTokens(t, t); // 1
 * ```
 */
export function bleuTokens(
  reference: readonly string[],
  hypothesis: readonly string[],
  weights: readonly number[] = [0.25, 0.25, 0.25, 0.25],
): number {
  const p = weights.map((_, i) => modifiedPrecision(reference, hypothesis, i + 1));
  if (p[0].numerator === 0) return 0;
  const c = hypothesis.length;
  const r = reference.length;
  const bp = c > r ? 1 : c === 0 ? 0 : Math.exp(1 - r / c);
  let s = 0;
  weights.forEach((w, i) => {
    const v = p[i].numerator === 0 ? FLOAT_MIN : p[i].numerator / p[i].denominator;
    s += w * Math.log(v);
  });
  return bp * Math.exp(s);
}

/**
 * CoSER's BLEU of two texts: both lower-cased and tokenized with {@link wordTokenize}.
 *
 * @example
 * ```ts
 * import { bleu } from "./bleu.ts";
 * bleu("Tom: The ledger is gone, Tom.", "tom: the ledger is gone, tom."); // 1
 * ```
 */
export function bleu(reference: string, hypothesis: string): number {
  return bleuTokens(wordTokenize(reference.toLowerCase()), wordTokenize(hypothesis.toLowerCase()));
}
