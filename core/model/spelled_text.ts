/**
 * {@link SpelledText}: the text of a growing token sequence at the cost of a short window per
 * token. Decoding all generated tokens again at every step costs O(n) per token (0.2 ms at 512
 * tokens and 0.5 ms at 2048 with Qwen's tokenizer), O(n²) over a generation.
 *
 * @module
 */

/** Token ids → text, as the model's decode spells a continuation. */
export type Spell = (ids: readonly number[]) => string;

/**
 * The decode of every token pushed so far, kept as settled text plus the decode of a window of
 * recent tokens. The window is cut only where decoding its two parts apart gives the same text as
 * decoding it whole and the later part spells something that does not start inside a character
 * (a cut inside a character's bytes, or between a space and the punctuation a cleanup rule would
 * join it to, fails that), so {@link push} returns exactly what
 * `spell(all tokens)` would for decoders whose output at a cut depends only on the tokens near
 * it (byte-level BPE, SentencePiece decoded behind an anchor). The window holds `window` to
 * `2·window` tokens while cuts succeed; where none of the few places tried passes, it grows and
 * is tried again `window` tokens later.
 *
 * @example
 * ```ts
 * import { SpelledText } from "./spelled_text.ts";
 * const letters = (ids: readonly number[]) => ids.map((i) => String.fromCharCode(97 + i)).join("");
 * const s = new SpelledText(letters, 2);
 * [0, 1, 2, 3, 4].map((t) => s.push(t)); // ["a", "ab", "abc", "abcd", "abcde"]
 * ```
 */
export class SpelledText {
  readonly #spell: Spell;
  readonly #window: number;
  #tokens: number[] = [];
  /** Tokens before `#mark` are settled into `#settled`. */
  #mark = 0;
  #settled = "";
  #nextCut: number;

  constructor(spell: Spell, window = 32) {
    if (!Number.isInteger(window) || window < 1) {
      throw new RangeError(`window is ${window}; pass a whole number >= 1`);
    }
    this.#spell = spell;
    this.#window = window;
    this.#nextCut = 2 * window;
  }

  /** Appends a token and returns the text of all tokens so far. */
  push(token: number): string {
    const t = this.#tokens;
    t.push(token);
    const recent = this.#spell(t.slice(this.#mark));
    const text = this.#settled + recent;
    if (t.length >= this.#nextCut) {
      // A few places are tried (a SentencePiece document decode refuses a cut before a `▁`
      // word); the part after a cut must spell something and not start inside a character, so
      // the two sides of the cut are fixed text.
      let cut = 0;
      for (
        let at = t.length - this.#window;
        at > this.#mark && at > t.length - this.#window - 4;
        at--
      ) {
        const left = this.#spell(t.slice(this.#mark, at));
        const right = this.#spell(t.slice(at));
        if (right.length > 0 && !right.startsWith("\uFFFD") && left + right === recent) {
          this.#settled += left;
          cut = at;
          break;
        }
      }
      if (cut > 0) {
        this.#mark = cut;
        this.#nextCut = cut + 2 * this.#window;
      } else this.#nextCut = t.length + this.#window;
    }
    return text;
  }
}
