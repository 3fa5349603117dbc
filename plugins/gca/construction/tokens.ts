/**
 * Token counting for book chunking. CoSER counts tokens with tiktoken's `cl100k_base`; that
 * encoder is not bundled here, so the default is an approximation — one token per run of letters
 * or digits (long runs count one token per 4 characters), one per other non-space character — that
 * lands within about 20% of cl100k on English prose. Pass your own {@link Tokenizer} for exact
 * counts.
 *
 * @module
 */

/** Splits text into token spans `[start, end)` covering the text in order. */
export type Tokenizer = (text: string) => [number, number][];

/**
 * The approximate tokenizer described in the module doc.
 *
 * @example
 * ```ts
 * import { approxTokenize } from "./tokens.ts";
 * approxTokenize("Hello, world").length; // 3
 * ```
 */
export const approxTokenize: Tokenizer = (text) => {
  const out: [number, number][] = [];
  for (const m of text.matchAll(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)) {
    const s = m.index!;
    const e = s + m[0].length;
    for (let i = s; i < e; i += 4) out.push([i, Math.min(e, i + 4)]);
    if (m[0].length > 4 && m[0].length % 4 !== 0) {
      // merge a short tail into the previous piece: "yesterday" is 2 tokens, not 3
      const last = out.pop()!;
      out[out.length - 1][1] = last[1];
    }
  }
  return out;
};

/** Counts tokens with a tokenizer. */
export function countTokens(text: string, tokenize: Tokenizer = approxTokenize): number {
  return tokenize(text).length;
}
