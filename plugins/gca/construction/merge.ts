/**
 * Merging plots cut by a chunk boundary (CoSER §1.9 step 4). A plot the previous chunk left
 * `truncated` is matched to a plot of the new chunk by word 3-gram Jaccard similarity of the
 * summaries (≥ 0.3); matched plots join their texts and conversations (a new conversation whose
 * scenario matches an old one replaces it, unmatched old ones stay, new ones are appended).
 * Truncated plots that find no match are closed as finished.
 *
 * @module
 */

import type { LocatedPlot } from "./extraction.ts";
import { trigramJaccard } from "./similarity.ts";

/** A plot under construction. */
export interface BuiltPlot extends Omit<LocatedPlot, "located"> {
  i_chunk: number;
}

/** The result of one merge step. */
export interface MergeResult {
  /** Plots that are finished now (closed or merged-and-finished), in chunk order. */
  finished: BuiltPlot[];
  /** Plots still truncated after this chunk. */
  truncated: BuiltPlot[];
}

function mergeConversations(old: BuiltPlot["conversation"], neu: BuiltPlot["conversation"]) {
  const out = old.slice();
  for (const c of neu) {
    let best = -1, bestSim = 0.3 - 1e-12;
    out.forEach((o, i) => {
      const s = trigramJaccard(o.scenario, c.scenario);
      if (s > bestSim) [best, bestSim] = [i, s];
    });
    if (best >= 0) out[best] = c;
    else out.push(c);
  }
  return out;
}

/**
 * Merges the previous truncated plots with the plots of chunk `iChunk`.
 *
 * @example
 * ```ts
 * import { mergeTruncated } from "./merge.ts";
 * const r = mergeTruncated([], [], 0);
 * console.log(r.finished.length, r.truncated.length); // 0 0
 * ```
 */
export function mergeTruncated(
  previous: BuiltPlot[],
  fresh: LocatedPlot[],
  iChunk: number,
): MergeResult {
  const finished: BuiltPlot[] = [];
  const truncated: BuiltPlot[] = [];
  const used = new Set<number>();
  const merged = fresh.map(({ located: _located, ...p }) =>
    ({ ...p, i_chunk: iChunk }) as BuiltPlot
  );
  for (const prev of previous) {
    let best = -1, bestSim = 0.3 - 1e-12;
    merged.forEach((p, i) => {
      if (used.has(i)) return;
      const s = trigramJaccard(prev.summary, p.summary);
      if (s > bestSim) [best, bestSim] = [i, s];
    });
    if (best < 0) {
      finished.push({ ...prev, state: "finished" });
      continue;
    }
    used.add(best);
    const p = merged[best];
    merged[best] = {
      ...p,
      text: prev.text && p.text ? `${prev.text}\n${p.text}` : prev.text || p.text,
      chapter: prev.chapter || p.chapter,
      i_chunk: prev.i_chunk,
      key_characters: [
        ...p.key_characters,
        ...prev.key_characters.filter((k) => !p.key_characters.some((q) => q.name === k.name)),
      ],
      conversation: mergeConversations(prev.conversation, p.conversation),
    };
  }
  for (const p of merged) (p.state === "truncated" ? truncated : finished).push(p);
  finished.sort((a, b) => a.i_chunk - b.i_chunk);
  return { finished, truncated };
}
