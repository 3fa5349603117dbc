/**
 * String similarity used by book construction: a Ratcliff/Obershelp ratio (Python difflib's
 * `SequenceMatcher.ratio`, without difflib's junk heuristic for strings of 200+ characters),
 * token 3-gram Jaccard similarity, and a sentence splitter that records offsets.
 *
 * @module
 */

function longestMatch(a: string, b: string, alo: number, ahi: number, blo: number, bhi: number) {
  let best = { i: alo, j: blo, k: 0 };
  let prev = new Int32Array(bhi - blo + 1);
  for (let i = alo; i < ahi; i++) {
    const cur = new Int32Array(bhi - blo + 1);
    for (let j = blo; j < bhi; j++) {
      if (a[i] === b[j]) {
        const k = prev[j - blo] + 1;
        cur[j - blo + 1] = k;
        if (k > best.k) best = { i: i - k + 1, j: j - k + 1, k };
      }
    }
    prev = cur;
  }
  return best;
}

/**
 * `2 · M / (|a| + |b|)` where M counts the characters of the recursively found longest common
 * blocks; 1 for two empty strings.
 *
 * @example
 * ```ts
 * import { sequenceRatio } from "./similarity.ts";
 * sequenceRatio("abcd", "bcde"); // 0.75
 * ```
 */
export function sequenceRatio(a: string, b: string): number {
  const total = a.length + b.length;
  if (total === 0) return 1;
  let matched = 0;
  const stack: [number, number, number, number][] = [[0, a.length, 0, b.length]];
  while (stack.length) {
    const [alo, ahi, blo, bhi] = stack.pop()!;
    const m = longestMatch(a, b, alo, ahi, blo, bhi);
    if (m.k === 0) continue;
    matched += m.k;
    stack.push([alo, m.i, blo, m.j], [m.i + m.k, ahi, m.j + m.k, bhi]);
  }
  return (2 * matched) / total;
}

function trigrams(text: string): Set<string> {
  const toks = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const out = new Set<string>();
  for (let i = 0; i + 3 <= toks.length; i++) out.add(toks.slice(i, i + 3).join(" "));
  if (toks.length > 0 && toks.length < 3) out.add(toks.join(" "));
  return out;
}

/**
 * Jaccard similarity of word 3-gram sets (texts shorter than 3 words count as one gram).
 *
 * @example
 * ```ts
 * import { trigramJaccard } from "./similarity.ts";
 * trigramJaccard("a b c d", "a b c e"); // 1/3
 * ```
 */
export function trigramJaccard(a: string, b: string): number {
  const x = trigrams(a), y = trigrams(b);
  if (x.size === 0 && y.size === 0) return 0;
  let inter = 0;
  for (const g of x) if (y.has(g)) inter++;
  return inter / (x.size + y.size - inter);
}

/** A sentence of a text with its offsets. */
export interface Sentence {
  text: string;
  start: number;
  end: number;
}

/**
 * Splits after `.!?。！？` and at newlines, keeping offsets into the original text.
 *
 * @example
 * ```ts
 * import { sentencesWithOffsets } from "./similarity.ts";
 * sentencesWithOffsets("Hi. Bye!").map((s) => s.text); // ["Hi.", "Bye!"]
 * ```
 */
export function sentencesWithOffsets(text: string): Sentence[] {
  const out: Sentence[] = [];
  for (const m of text.matchAll(/[^\n.!?。！？]*(?:[.!?。！？]+["'”’)]*|\n|$)/gu)) {
    const raw = m[0];
    if (!raw.trim()) continue;
    const lead = raw.length - raw.trimStart().length;
    const start = m.index! + lead;
    out.push({ text: raw.trim(), start, end: start + raw.trim().length });
  }
  return out;
}

/**
 * The sentence of `sentences` most similar to `target` with ratio ≥ `threshold` (0.6), searching
 * from `fromIndex`; `undefined` when none qualifies.
 */
export function bestSentence(
  sentences: readonly Sentence[],
  target: string,
  threshold = 0.6,
  fromIndex = 0,
): { index: number; ratio: number } | undefined {
  const t = target.trim();
  let best: { index: number; ratio: number } | undefined;
  for (let i = fromIndex; i < sentences.length; i++) {
    const s = sentences[i].text;
    // the ratio can never beat 2·min/(sum): skip hopeless candidates cheaply
    if ((2 * Math.min(s.length, t.length)) / (s.length + t.length) < threshold) continue;
    const r = sequenceRatio(s, t);
    if (r >= threshold && (!best || r > best.ratio)) best = { index: i, ratio: r };
    if (r === 1) break;
  }
  return best;
}
