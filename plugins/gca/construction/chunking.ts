/**
 * Book chunking (CoSER §1.9 step 1): chapter-aware cutting into pieces of about `chunkSize`
 * tokens, with fixed token windows when fewer than six chapters are found, and copyright lines
 * removed from the first chunk.
 *
 * @module
 */

import { approxTokenize, type Tokenizer } from "./tokens.ts";

const NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|" +
  "fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|first|second|" +
  "third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last";

/** Heading patterns, one line each: "Chapter 3", "PART TWO", "Book IV", "Prologue", "XII", "7", "# Title". */
export const HEADING_PATTERNS: readonly RegExp[] = [
  new RegExp(
    `^\\s*(chapter|part|book|volume|act|scene|section)\\s+(\\d+|[ivxlcdm]+|${NUMBER_WORDS})\\b.{0,80}$`,
    "i",
  ),
  /^\s*(prologue|epilogue|introduction|preface|interlude|afterword)\b.{0,80}$/i,
  /^\s*[IVXLCDM]+\.?\s*$/,
  /^\s*\d{1,3}\.?\s*$/,
  /^\s*#{1,3}\s+\S.{0,80}$/,
  /^\s*第[零一二三四五六七八九十百千\d]+[章回节卷部].{0,30}$/,
];

/** True when a line looks like a chapter heading. */
export function isHeading(line: string): boolean {
  return line.trim().length > 0 && HEADING_PATTERNS.some((re) => re.test(line));
}

/**
 * Splits text into chapters at heading lines, merging pieces until each holds at least
 * `minChars` characters (2000). Returns the pieces; fewer than 6 means "no chapters".
 *
 * @example
 * ```ts
 * import { splitChapters } from "./chunking.ts";
 * splitChapters("Chapter 1\nA.\nChapter 2\nB.", 1).length; // 2
 * ```
 */
export function splitChapters(text: string, minChars = 2000): string[] {
  const lines = text.split("\n");
  const pieces: string[] = [];
  let cur: string[] = [];
  for (const line of lines) {
    if (isHeading(line) && cur.join("\n").trim()) {
      pieces.push(cur.join("\n"));
      cur = [];
    }
    cur.push(line);
  }
  if (cur.join("\n").trim()) pieces.push(cur.join("\n"));
  const merged: string[] = [];
  let acc = "";
  for (const p of pieces) {
    acc = acc ? `${acc}\n${p}` : p;
    if (acc.length >= minChars) {
      merged.push(acc);
      acc = "";
    }
  }
  if (acc) {
    if (merged.length && acc.length < minChars) merged[merged.length - 1] += `\n${acc}`;
    else merged.push(acc);
  }
  return merged;
}

const COPYRIGHT_WORDS = [
  "rights",
  "reserved",
  "reproduced",
  "copyright",
  "reproduce",
  "permission",
];

/** Drops short lines (< 50 words) that use at least two copyright words. */
export function dropCopyrightLines(text: string): string {
  return text.split("\n").filter((line) => {
    const words: string[] = line.toLowerCase().match(/[a-z]+/g) ?? [];
    if (words.length >= 50) return true;
    return COPYRIGHT_WORDS.filter((w) => words.includes(w)).length < 2;
  }).join("\n");
}

/** Options of {@link chunkBook}. */
export interface ChunkOptions {
  chunkSize?: number;
  tokenize?: Tokenizer;
  minChapterChars?: number;
}

function cutTokens(text: string, size: number, tokenize: Tokenizer, lastMax: number): string[] {
  const spans = tokenize(text);
  const out: string[] = [];
  let start = 0; // token index
  while (spans.length - start > lastMax) {
    const endChar = spans[start + size][0];
    out.push(text.slice(start === 0 ? 0 : spans[start][0], endChar));
    start += size;
  }
  if (start < spans.length) out.push(text.slice(start === 0 ? 0 : spans[start][0]));
  return out;
}

/**
 * Cuts a book into chunks. With more than 5 chapters: chapters accumulate until the chunk holds
 * at least `chunkSize / 2` tokens; a chunk of at most `2 · chunkSize` tokens is kept whole, a
 * longer one is cut into `chunkSize`-token pieces, the last absorbing a remainder below
 * `2 · chunkSize`. Without chapters: `chunkSize`-token windows. Tabs are removed when they make
 * up more than 5% of the characters.
 *
 * @example
 * ```ts
 * import { chunkBook } from "./chunking.ts";
 * const { chunks, chapters } = chunkBook("Some short text.", { chunkSize: 8192 });
 * console.log(chunks.length, chapters); // 1 false
 * ```
 */
export function chunkBook(
  text: string,
  options: ChunkOptions = {},
): { chunks: string[]; chapters: boolean } {
  const size = options.chunkSize ?? 8192;
  if (!Number.isInteger(size) || size < 2) {
    throw new RangeError(`chunkSize is ${size}; pass a whole number of tokens >= 2`);
  }
  const tokenize = options.tokenize ?? approxTokenize;
  const tabs = (text.match(/\t/g) ?? []).length;
  if (tabs > 0.05 * text.length) text = text.replaceAll("\t", "");
  const chapters = splitChapters(text, options.minChapterChars ?? 2000);
  const chunks: string[] = [];
  const useChapters = chapters.length > 5;
  if (useChapters) {
    let acc = "";
    const flush = () => {
      if (!acc.trim()) return;
      const n = tokenize(acc).length;
      if (n <= 2 * size) chunks.push(acc);
      else chunks.push(...cutTokens(acc, size, tokenize, 2 * size - 1));
      acc = "";
    };
    for (const ch of chapters) {
      acc = acc ? `${acc}\n${ch}` : ch;
      if (tokenize(acc).length >= size / 2) flush();
    }
    flush();
  } else chunks.push(...cutTokens(text, size, tokenize, size));
  if (chunks.length) chunks[0] = dropCopyrightLines(chunks[0]);
  return { chunks: chunks.filter((c) => c.trim()), chapters: useChapters };
}
