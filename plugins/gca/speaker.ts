/**
 * Speaker handling: prefixing a message with its speaker, reading the next-speaker agent's reply,
 * and the deterministic fallback when that reply cannot be used.
 *
 * @module
 */

import type { Prng } from "../../core/util/prng.ts";
import { ENVIRONMENT } from "./schemas.ts";

/** The next-speaker reply that ends a scene. */
export const END_CHAT = "<END CHAT>";

/**
 * Prefixes `text` with `speaker: ` unless a line of it already starts with `speaker:` (or the
 * full-width colon `speaker：`).
 *
 * @example
 * ```ts
 * import { withSpeaker } from "./speaker.ts";
 * withSpeaker("(nods) Yes.", "Tom"); // "Tom: (nods) Yes."
 * withSpeaker("Tom: Yes.", "Tom"); // "Tom: Yes."
 * ```
 */
export function withSpeaker(text: string, speaker: string): string {
  const has = text.split("\n").some((l) => {
    const s = l.trimStart();
    return s.startsWith(`${speaker}:`) || s.startsWith(`${speaker}：`);
  });
  return has ? text : `${speaker}: ${text}`;
}

const NEXT_SPEAKER =
  /(?:\*\*|#+)?\s*next\s+speaker\s*(?:\*\*|#+)?\s*(?::|-|is)?\s*\**\s*([^\n*]*)/gi;

/**
 * Reads the next speaker from the next-speaker agent's reply. Every "Next Speaker" mention counts
 * (any case, optionally wrapped in `**` or led by `#`, followed by `:`, `-`, `is` or nothing, then
 * optional `*`; the name may follow on the next line); the last one wins, with trailing `.,!"'`,
 * leading quotes and any `*` removed. A reply without
 * such a mention gives the text before its first `:`, else the whole reply (trimmed). Callers
 * compare the result with character names exactly.
 *
 * @example
 * ```ts
 * import { parseNextSpeaker } from "./speaker.ts";
 * parseNextSpeaker("1. Reasoning: Tom was asked.\n2. **Next Speaker:** Tom Venn."); // "Tom Venn"
 * parseNextSpeaker("<END CHAT>"); // "<END CHAT>"
 * ```
 */
export function parseNextSpeaker(reply: string): string {
  const found = [...reply.matchAll(NEXT_SPEAKER)];
  let name: string;
  if (found.length > 0) name = found[found.length - 1][1];
  else {
    const colon = reply.indexOf(":");
    name = colon >= 0 ? reply.slice(0, colon) : reply;
  }
  return name.trim().replace(/[.,!"']+$/, "").replace(/^["']+/, "").replaceAll("*", "").trim();
}

/**
 * The fallback speaker when the next-speaker reply is invalid, `random`, an early end or the
 * current speaker: a seeded choice among the major characters and Environment other than the
 * current speaker (restricted to `available` speakers), else among all available speakers other
 * than the current one. The pool is sorted first so the choice depends only on the seed.
 *
 * @example
 * ```ts
 * import { Prng } from "../../core/util/prng.ts";
 * import { fallbackSpeaker } from "./speaker.ts";
 * fallbackSpeaker("Ada", ["Ada", "Tom"], ["Ada", "Tom", "Environment"], new Prng(1)); // "Environment" or "Tom"
 * ```
 */
export function fallbackSpeaker(
  current: string,
  majorCharacters: readonly string[],
  available: readonly string[],
  prng: Prng,
): string {
  const avail = new Set(available);
  let pool = [...new Set([...majorCharacters, ENVIRONMENT])].filter((n) =>
    n !== current && avail.has(n)
  );
  if (pool.length === 0) pool = [...avail].filter((n) => n !== current);
  if (pool.length === 0) pool = [current];
  return prng.choice(pool.sort());
}
