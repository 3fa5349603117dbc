/**
 * A recursive character splitter with the behaviour of LangChain's
 * `RecursiveCharacterTextSplitter` defaults (separators `\n\n`, `\n`, space, character; the
 * separator is kept at the start of the following piece; chunks are whitespace-trimmed), which
 * CoSER uses to cut retrieval corpora into 1000-character chunks with 200 characters of overlap.
 * Lengths are counted in UTF-16 code units, as JavaScript strings count them.
 *
 * @module
 */

import { withCode } from "../../core/errors.ts";

/** Options of {@link splitText}. */
export interface SplitOptions {
  chunkSize?: number;
  chunkOverlap?: number;
  separators?: string[];
}

function splitKeeping(text: string, sep: string): string[] {
  if (sep === "") return [...text];
  const parts = text.split(sep);
  const out = [parts[0], ...parts.slice(1).map((p) => sep + p)];
  return out.filter((s) => s !== "");
}

function merge(splits: string[], size: number, overlap: number): string[] {
  const docs: string[] = [];
  let current: string[] = [];
  let total = 0;
  const push = () => {
    const doc = current.join("").trim();
    if (doc) docs.push(doc);
  };
  for (const d of splits) {
    if (total + d.length > size && current.length > 0) {
      push();
      while (total > overlap || (total + d.length > size && total > 0)) {
        total -= current[0].length;
        current = current.slice(1);
      }
    }
    current.push(d);
    total += d.length;
  }
  push();
  return docs;
}

function recurse(text: string, separators: string[], size: number, overlap: number): string[] {
  let sep = separators[separators.length - 1];
  let rest: string[] = [];
  for (let i = 0; i < separators.length; i++) {
    if (separators[i] === "") {
      sep = "";
      break;
    }
    if (text.includes(separators[i])) {
      sep = separators[i];
      rest = separators.slice(i + 1);
      break;
    }
  }
  const out: string[] = [];
  let good: string[] = [];
  for (const s of splitKeeping(text, sep)) {
    if (s.length < size) good.push(s);
    else {
      if (good.length) out.push(...merge(good, size, overlap));
      good = [];
      if (rest.length === 0) out.push(s);
      else out.push(...recurse(s, rest, size, overlap));
    }
  }
  if (good.length) out.push(...merge(good, size, overlap));
  return out;
}

/**
 * Splits text into chunks of at most `chunkSize` characters (1000) that overlap by up to
 * `chunkOverlap` (200), preferring paragraph, then line, then word boundaries.
 *
 * @example
 * ```ts
 * import { splitText } from "./text_splitter.ts";
 * splitText("aa bb cc dd", { chunkSize: 8, chunkOverlap: 4 }); // ["aa bb cc", "cc dd"]
 * ```
 */
export function splitText(text: string, options: SplitOptions = {}): string[] {
  const size = options.chunkSize ?? 1000;
  const overlap = options.chunkOverlap ?? 200;
  if (!Number.isInteger(size) || size < 1) {
    throw withCode(new RangeError(`chunkSize is ${size}; pass a whole number >= 1`), "E_CONFIG");
  }
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw withCode(
      new RangeError(`chunkOverlap is ${overlap}; pass a whole number in [0, chunkSize)`),
      "E_CONFIG",
    );
  }
  return recurse(text, options.separators ?? ["\n\n", "\n", " ", ""], size, overlap);
}
