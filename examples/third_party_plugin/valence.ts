/**
 * The scoring rule of the lexicon judge, kept free of I/O so it can be tested on fixed strings.
 *
 * @module
 */

/** A valence lexicon. */
export interface ValenceLexicon {
  valences: Record<string, number>;
  negators: string[];
  /** Word → boost added in the direction of the next word's valence. */
  intensifiers: Record<string, number>;
}

/** A valence score. */
export interface ValenceScore {
  score: number;
  sum: number;
  positive: number;
  negative: number;
  tokens: number;
  matched: { word: string; valence: number }[];
}

/** Lower-cased word tokens (letters and apostrophes). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().replaceAll("’", "'").match(/[a-z]+(?:'[a-z]+)*/g) ?? [];
}

/**
 * Scores a text: each lexicon word contributes its valence, shifted by an intensifier right
 * before it and multiplied by `negationFactor` when a negator occurs within `window` words
 * before it; the sum is squashed to (-1, 1) as `sum / sqrt(sum² + alpha)`. Returns `null` for a
 * text without words.
 *
 * @example
 * ```ts
 * import { scoreValence } from "./valence.ts";
 * const lex = { valences: { good: 2 }, negators: ["not"], intensifiers: {} };
 * console.log(scoreValence("not good", lex, { negationFactor: -0.5, window: 3, alpha: 15 })?.sum);
 * // -1
 * ```
 */
export function scoreValence(
  text: string,
  lexicon: ValenceLexicon,
  settings: { negationFactor: number; window: number; alpha: number },
): ValenceScore | null {
  const tokens = tokenize(text);
  if (tokens.length === 0) return null;
  const negators = new Set(lexicon.negators);
  const matched: ValenceScore["matched"] = [];
  tokens.forEach((word, i) => {
    const base = lexicon.valences[word];
    if (base === undefined) return;
    let v = base;
    const boost = i > 0 ? lexicon.intensifiers[tokens[i - 1]] : undefined;
    if (boost !== undefined) v += Math.sign(v) * boost;
    const from = Math.max(0, i - settings.window);
    if (tokens.slice(from, i).some((t) => negators.has(t) || t.endsWith("n't"))) {
      v *= settings.negationFactor;
    }
    matched.push({ word, valence: v });
  });
  const sum = matched.reduce((a, m) => a + m.valence, 0);
  return {
    score: sum / Math.sqrt(sum * sum + settings.alpha),
    sum,
    positive: matched.filter((m) => m.valence > 0).length,
    negative: matched.filter((m) => m.valence < 0).length,
    tokens: tokens.length,
    matched,
  };
}
