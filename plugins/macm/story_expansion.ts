/**
 * Iterative life-story expansion (§2.3): score every paragraph by importance, elaborateness and
 * redundancy over sentence embeddings, pick one of the best, and have a writer model expand it.
 * Embeddings come from an injected `embed(texts)` function, summaries from a ChatModel.
 *
 * @module
 */

import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { Prng } from "../../core/util/prng.ts";
import { expansionMessages, splitParagraphs } from "./biography.ts";
import type { CharacterProfile } from "./profile.ts";

/** Embeds texts into vectors (one per text, any fixed dimension). */
export type EmbedFn = (texts: string[]) => Promise<number[][]>;

/**
 * Cosine similarity; 0 when either vector is all zeros.
 *
 * @example
 * ```ts
 * import { cosine } from "./story_expansion.ts";
 * cosine([1, 0], [1, 1]); // 0.7071…
 * ```
 */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) {
    throw new RangeError(`vectors have lengths ${a.length} and ${b.length}; embed with one model`);
  }
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Paragraph scores `80·importance + 100·elaborateness + 120·redundancy`: importance = cosine to
 * the whole-story summary, elaborateness = cosine to the paragraph's own short summary,
 * redundancy = mean over the other paragraphs of (1 − cosine). A single paragraph has
 * redundancy 0.
 *
 * @example
 * ```ts
 * import { scoreParagraphs } from "./story_expansion.ts";
 * scoreParagraphs([[1, 0], [0, 1]], [1, 0], [[1, 0], [0, 1]]); // [180 + 120, 0 + 100 + 120]
 * ```
 */
export function scoreParagraphs(
  paragraphs: readonly number[][],
  storySummary: readonly number[],
  ownSummaries: readonly number[][],
): number[] {
  const n = paragraphs.length;
  if (ownSummaries.length !== n) {
    throw new RangeError(`${n} paragraphs but ${ownSummaries.length} summaries; pass one each`);
  }
  return paragraphs.map((p, i) => {
    let red = 0;
    for (let j = 0; j < n; j++) if (j !== i) red += 1 - cosine(p, paragraphs[j]);
    const redundancy = n > 1 ? red / (n - 1) : 0;
    return 80 * cosine(p, storySummary) + 100 * cosine(p, ownSummaries[i]) + 120 * redundancy;
  });
}

/**
 * Picks a paragraph: uniformly among the top 5 scores (top ⌊n/10⌋+1 when n > 20); null when the
 * picked score is below `threshold` (50), which ends the expansion.
 *
 * @example
 * ```ts
 * import { pickParagraph } from "./story_expansion.ts";
 * import { Prng } from "../../core/util/prng.ts";
 * pickParagraph([10, 90, 80], new Prng(1)); // 0, 1 or 2 … null if the pick is 10
 * ```
 */
export function pickParagraph(scores: readonly number[], rng: Prng, threshold = 50): number | null {
  if (scores.length === 0) return null;
  const top = scores.length > 20 ? Math.floor(scores.length / 10) + 1 : 5;
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const [score, index] = rng.choice(order.slice(0, top));
  return score < threshold ? null : index;
}

/** What one expansion step needs. */
export interface ExpansionDeps {
  profile: CharacterProfile;
  writer: ChatModel;
  summarizer: ChatModel;
  embed: EmbedFn;
  rng: Prng;
  /** Draft length (characters) above which the writer sees a ±5-paragraph window (24000). */
  contextChars?: number;
  /** Paragraph → short summary, reused across steps. */
  summaryCache?: Map<string, string>;
}

/** The result of one step, or null when the story is done. */
export interface ExpansionStep {
  index: number;
  score: number;
  paragraphs: string[];
}

async function summarize(model: ChatModel, text: string, words: number): Promise<string> {
  const r = await model.chat({
    messages: [
      {
        role: "system",
        content: `Summarise the text in at most ${words} words. Output only the summary.`,
      },
      { role: "user", content: text },
    ],
    temperature: 0,
  });
  return (r.choices[0]?.message.content ?? "").trim();
}

/**
 * Runs one expansion iteration on a draft; returns the new paragraph list, or null to stop.
 *
 * @example
 * ```ts
 * import { expandOnce } from "./story_expansion.ts";
 * declare const deps: import("./story_expansion.ts").ExpansionDeps;
 * const step = await expandOnce(["Born in 1990.", "Moved to East Town."], deps);
 * ```
 */
export async function expandOnce(
  paragraphs: readonly string[],
  deps: ExpansionDeps,
): Promise<ExpansionStep | null> {
  const cache = deps.summaryCache ?? new Map<string, string>();
  const whole = paragraphs.join("\n");
  const storySummary = await summarize(deps.summarizer, whole, 150);
  const own: string[] = [];
  for (const p of paragraphs) {
    if (!cache.has(p)) cache.set(p, await summarize(deps.summarizer, p, 20));
    own.push(cache.get(p)!);
  }
  const vecs = await deps.embed([...paragraphs, storySummary, ...own]);
  const n = paragraphs.length;
  const scores = scoreParagraphs(vecs.slice(0, n), vecs[n], vecs.slice(n + 1));
  const index = pickParagraph(scores, deps.rng);
  if (index === null) return null;
  const context = whole.length <= (deps.contextChars ?? 24000) ? whole : [
    `(Summary of the rest of the story: ${storySummary})`,
    ...paragraphs.slice(Math.max(0, index - 5), index + 6),
  ].join("\n");
  const r = await deps.writer.chat({
    messages: expansionMessages(deps.profile, context, paragraphs[index]),
    top_p: 0.95,
  });
  const expanded = splitParagraphs(r.choices[0]?.message.content ?? "");
  const next = paragraphs.slice();
  if (expanded.length > 0) next.splice(index, 1, ...expanded);
  return { index, score: scores[index], paragraphs: next };
}
