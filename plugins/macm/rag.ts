/**
 * The `rag` baseline's retrieval (§2.5): the life story cut into overlapping character windows
 * (512 / 32), embedded with an injected function, searched by cosine similarity (k = 3).
 *
 * @module
 */

import { cosine, type EmbedFn } from "./story_expansion.ts";

/**
 * Cuts text into windows of `size` characters overlapping by `overlap`; a window ends at the
 * last whitespace in its final quarter when there is one, so words are rarely split.
 *
 * @example
 * ```ts
 * import { chunkText } from "./rag.ts";
 * chunkText("abcdefghij", 4, 1); // ["abcd", "defg", "ghij"]
 * ```
 */
export function chunkText(text: string, size = 512, overlap = 32): string[] {
  if (!(size > 0) || !(overlap >= 0) || overlap >= size) {
    throw new RangeError(`size ${size} / overlap ${overlap}: need size > overlap >= 0`);
  }
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    if (end < text.length) {
      const ws = text.lastIndexOf(" ", end);
      if (ws > start + size * 0.75) end = ws;
    }
    out.push(text.slice(start, end).trim());
    if (end >= text.length) break;
    start = Math.max(end - overlap, start + 1);
  }
  return out.filter((c) => c !== "");
}

/** An embedded chunk store. */
export interface RagIndex {
  chunks: string[];
  vectors: number[][];
  embed: EmbedFn;
}

/**
 * Embeds the chunks of a story.
 *
 * @example
 * ```ts
 * import { buildRagIndex } from "./rag.ts";
 * declare const embed: import("./story_expansion.ts").EmbedFn;
 * const index = await buildRagIndex("a long life story…", embed);
 * ```
 */
export async function buildRagIndex(
  story: string,
  embed: EmbedFn,
  options: { size?: number; overlap?: number } = {},
): Promise<RagIndex> {
  const chunks = chunkText(story, options.size ?? 512, options.overlap ?? 32);
  return { chunks, vectors: chunks.length ? await embed(chunks) : [], embed };
}

/**
 * The `k` chunks most similar to the query, best first (ties keep story order).
 *
 * @example
 * ```ts
 * import { searchRag } from "./rag.ts";
 * declare const index: import("./rag.ts").RagIndex;
 * const top3 = await searchRag(index, "your father", 3);
 * ```
 */
export async function searchRag(index: RagIndex, query: string, k = 3): Promise<string[]> {
  if (index.chunks.length === 0) return [];
  const [q] = await index.embed([query]);
  return index.vectors.map((v, i) => [cosine(q, v), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => index.chunks[i]);
}
