/**
 * A word tokenizer that follows NLTK's `word_tokenize` (the NLTK word tokenizer, an improved
 * Penn Treebank tokenizer, applied sentence by sentence), which CoSER's BLEU uses.
 *
 * Sentence splitting differs from NLTK: NLTK uses the trained Punkt model; here a sentence ends
 * after `.`, `!` or `?` (plus any closing quotes or brackets) followed by whitespace. The effect
 * is confined to abbreviations such as "mr." (split here, kept by Punkt), which move one `.`
 * token. Python's Unicode `\w` is matched with `\p{L}\p{N}_`.
 *
 * @module
 */

const W = "[\\p{L}\\p{N}_]";
const NOT_W = "(?![\\p{L}\\p{N}_])";

type Rule = [RegExp, string];

const STARTING_QUOTES: Rule[] = [
  [/([«“‘„]|[`]+)/gu, " $1 "],
  [/^"/u, "``"],
  [/(``)/gu, " $1 "],
  [/([ ([{<])("|'{2})/gu, "$1 `` "],
  [new RegExp(`(')(?!re|ve|ll|m|t|s|d|n)(${W})${NOT_W}`, "giu"), "$1 $2"],
];

const PUNCTUATION: Rule[] = [
  [/([^.])(\.)([\])}>"'»”’ ]*)\s*$/u, "$1 $2 $3 "],
  [/([:,])([^\d])/gu, " $1 $2"],
  [/([:,])$/u, " $1 "],
  [/\.{2,}/gu, " $& "],
  [/[;@#$%&]/gu, " $& "],
  [/([^.])(\.)([\])}>"']*)\s*$/u, "$1 $2$3 "],
  [/[?!]/gu, " $& "],
  [/([^'])' /gu, "$1 ' "],
  [/[*]/gu, " $& "],
];

const PARENS: Rule = [/[\][(){}<>]/gu, " $& "];
const DOUBLE_DASHES: Rule = [/--/gu, " -- "];

const ENDING_QUOTES: Rule[] = [
  [/([»”’])/gu, " $1 "],
  [/''/gu, " '' "],
  [/"/gu, " '' "],
  [/([^' ])('[sS]|'[mM]|'[dD]|') /gu, "$1 $2 "],
  [/([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) /gu, "$1 $2 "],
];

const CONTRACTIONS: RegExp[] = [
  /\b(can)(not)\b/giu,
  /\b(d)('ye)\b/giu,
  /\b(gim)(me)\b/giu,
  /\b(gon)(na)\b/giu,
  /\b(got)(ta)\b/giu,
  /\b(lem)(me)\b/giu,
  /\b(more)('n)\b/giu,
  /\b(wan)(na)(?=\s)/giu,
  / ('t)(is)\b/giu,
  / ('t)(was)\b/giu,
];

/** Applies a rule the way Python's `re.sub` does (every non-overlapping match, left to right). */
function sub(text: string, [re, rep]: Rule): string {
  return text.replace(re, rep);
}

/**
 * Tokenizes one sentence with the NLTK word-tokenizer rules.
 *
 * @example
 * ```ts
 * import { treebankTokenize } from "./tokenize.ts";
 * treebankTokenize("they can't, can they?"); // ["they", "ca", "n't", ",", "can", "they", "?"]
 * ```
 */
export function treebankTokenize(sentence: string): string[] {
  let t = sentence;
  for (const r of STARTING_QUOTES) t = sub(t, r);
  for (const r of PUNCTUATION) t = sub(t, r);
  t = sub(t, PARENS);
  t = sub(t, DOUBLE_DASHES);
  t = ` ${t} `;
  for (const r of ENDING_QUOTES) t = sub(t, r);
  for (const re of CONTRACTIONS) t = t.replace(re, " $1 $2 ");
  return t.split(/\s+/u).filter((x) => x.length > 0);
}

/**
 * Splits text into sentences: after `.`, `!` or `?` and any closing quotes or brackets, when
 * whitespace follows.
 *
 * @example
 * ```ts
 * import { splitSentences } from "./tokenize.ts";
 * splitSentences('He left. "Why?" she asked.'); // ["He left.", '"Why?"', "she asked."]
 * ```
 */
export function splitSentences(text: string): string[] {
  return text.split(/(?<=[.!?]['"”’)\]]*)\s+/u).map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * NLTK-style `word_tokenize`: sentence split, then {@link treebankTokenize} per sentence.
 *
 * @example
 * ```ts
 * import { wordTokenize } from "./tokenize.ts";
 * wordTokenize("gone. you lost it!"); // ["gone", ".", "you", "lost", "it", "!"]
 * ```
 */
export function wordTokenize(text: string): string[] {
  return splitSentences(text).flatMap(treebankTokenize);
}
