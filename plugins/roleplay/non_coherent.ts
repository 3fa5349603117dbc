/**
 * The repetition detector LLM Roleplay uses to end a dialogue whose model has started looping.
 *
 * @module
 */

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((w, i) => w === b[i]);

const allSame = (grams: readonly (readonly string[])[]) => grams.every((g) => same(g, grams[0]));

/**
 * True when the text repeats itself. Words are whitespace-separated. For each n in 2..maxN the
 * n-grams starting at every word are walked in order (the last ones are shorter, as a slice of the
 * word list). Once at least max(r, n) n-grams were seen, when the current n-gram equals the
 * previous one or the one n positions back, the text is flagged if the previous `r` n-grams are all
 * identical, or if the `r` n-grams taken at stride n backwards from n positions back are identical.
 *
 * With r = 2 this flags an n-word phrase repeated three times back to back, or one word four times
 * in a row; a phrase said twice, or a word three times, passes.
 *
 * @example
 * ```ts
 * import { nonCoherent } from "./non_coherent.ts";
 * nonCoherent("no no no no", 4, 2); // true
 * nonCoherent("no no no", 4, 2); // false
 * nonCoherent("I see I see I see", 2, 2); // true
 * ```
 */
export function nonCoherent(text: string, maxN: number, r = 2): boolean {
  if (!Number.isInteger(maxN) || maxN < 2) {
    throw new RangeError(`maxN is ${maxN}; pass a whole number >= 2 (reference: 4 or 5)`);
  }
  if (!Number.isInteger(r) || r < 1) {
    throw new RangeError(`r is ${r}; pass a whole number >= 1 (reference: 2)`);
  }
  const words = text.split(/\s+/).filter((w) => w !== "");
  for (let n = 2; n <= maxN; n++) {
    const grams: string[][] = [];
    for (let i = 0; i < words.length; i++) {
      const gram = words.slice(i, i + n);
      const k = grams.length;
      if (k > 0 && k >= Math.max(r, n) && (same(grams[k - 1], gram) || same(grams[k - n], gram))) {
        const lastR = grams.slice(-r);
        if (lastR.length === r && allSame(lastR)) return true;
        const strided: string[][] = [];
        for (let j = k - n; j >= 0 && strided.length < r; j -= n) strided.push(grams[j]);
        if (strided.length === r && allSame(strided)) return true;
      }
      grams.push(gram);
    }
  }
  return false;
}
