/**
 * {@link PrefixCache}: which prompt prefixes have their KV cache saved on a session, so that a
 * persona's system prompt and card (the same thousands of tokens on every request of a
 * simulation) are prefilled once and reused. Entries are token sequences with a conditioning
 * key (everything besides the tokens that changes the cached keys and values: prompt-position
 * steering edits, identities); a prompt reuses the longest common prefix with any entry of the
 * same conditioning, always leaving at least its last token to run. The cache is bounded in
 * bytes and evicts the least recently used entry first.
 *
 * @module
 */

import { withCode } from "../errors.ts";

/** Options of {@link PrefixCache}. */
export interface PrefixCacheOptions {
  /** Most bytes of saved keys and values; default 256 MiB. */
  maxBytes?: number;
  /** Shortest prefix worth saving or reusing, in tokens; default 32. */
  minTokens?: number;
}

interface Entry {
  key: string;
  tokens: readonly number[];
  condition: string;
  bytes: number;
}

/**
 * A bounded LRU index of saved prefixes (the keys and values themselves live on the session).
 *
 * @example
 * ```ts
 * import { PrefixCache } from "./prefix_cache.ts";
 * const cache = new PrefixCache({ maxBytes: 1 << 20, minTokens: 2 });
 * const { key } = cache.add([1, 2, 3, 4], "", 1000);
 * console.log(cache.match([1, 2, 3, 9, 9], "")); // { key, length: 3 }
 * ```
 */
export class PrefixCache {
  readonly maxBytes: number;
  readonly minTokens: number;
  #entries: Entry[] = [];
  #next = 1;
  #hits = 0;
  #reusedTokens = 0;

  constructor(options: PrefixCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.minTokens = options.minTokens ?? 32;
    if (!(this.maxBytes >= 0) || !Number.isInteger(this.minTokens) || this.minTokens < 1) {
      throw withCode(
        new RangeError(
          `prefix cache maxBytes ${this.maxBytes} / minTokens ${this.minTokens}; pass bytes >= 0 and a whole number of tokens >= 1`,
        ),
        "E_USAGE",
      );
    }
  }

  /** Bytes held by the entries. */
  get bytes(): number {
    return this.#entries.reduce((s, e) => s + e.bytes, 0);
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.length;
  }

  /** Reuse counts so far: prompts that reused a prefix, and tokens not prefilled thanks to it. */
  get stats(): { hits: number; reusedTokens: number } {
    return { hits: this.#hits, reusedTokens: this.#reusedTokens };
  }

  /**
   * The entry sharing the longest prefix with `tokens` (same condition), and how many of its
   * positions to reuse: at most `tokens.length - 1`, at least `minTokens`, else undefined.
   */
  match(tokens: readonly number[], condition: string): { key: string; length: number } | undefined {
    let best: Entry | undefined;
    let bestLen = 0;
    for (const e of this.#entries) {
      if (e.condition !== condition) continue;
      const n = Math.min(e.tokens.length, tokens.length - 1);
      let k = 0;
      while (k < n && e.tokens[k] === tokens[k]) k++;
      if (k > bestLen) {
        best = e;
        bestLen = k;
      }
    }
    if (!best || bestLen < this.minTokens) return undefined;
    this.#touch(best);
    this.#hits++;
    this.#reusedTokens += bestLen;
    return { key: best.key, length: bestLen };
  }

  /** Whether saving `tokens` would add anything (long enough, not already held in full). */
  worthSaving(tokens: readonly number[], condition: string, bytes: number): boolean {
    if (tokens.length < this.minTokens || bytes > this.maxBytes) return false;
    return !this.#entries.some((e) =>
      e.condition === condition && e.tokens.length >= tokens.length &&
      tokens.every((t, i) => e.tokens[i] === t)
    );
  }

  /**
   * Registers a saved prefix; returns its key and the keys evicted to stay within `maxBytes`
   * (drop those from the session). Entries that are prefixes of the new one go first.
   */
  add(tokens: readonly number[], condition: string, bytes: number): {
    key: string;
    evicted: string[];
  } {
    const key = `prefix-${this.#next++}`;
    const evicted: string[] = [];
    this.#entries = this.#entries.filter((e) => {
      const covered = e.condition === condition && e.tokens.length <= tokens.length &&
        e.tokens.every((t, i) => tokens[i] === t);
      if (covered) evicted.push(e.key);
      return !covered;
    });
    this.#entries.push({ key, tokens: [...tokens], condition, bytes });
    while (this.bytes > this.maxBytes && this.#entries.length > 1) {
      evicted.push(this.#entries.shift()!.key);
    }
    return { key, evicted };
  }

  #touch(e: Entry): void {
    this.#entries = this.#entries.filter((x) => x !== e);
    this.#entries.push(e);
  }
}
