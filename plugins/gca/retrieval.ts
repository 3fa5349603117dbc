/**
 * Retrieval-augmented acting (CoSER §1.5). For a character of a book file, three corpora are
 * built from the plots the character takes part in: the raw book text, the character's
 * experiences, and the conversations. Each corpus is cut into 1000-character chunks with 200
 * characters of overlap ({@link splitText}), embedded once with an injected `embed` function,
 * and searched by cosine similarity at every actor turn.
 *
 * Leakage filter (on by default, a deviation from the released code, which has none): plots at or
 * after the book's `split_plot_index` (held out) and the test record's own plot are left out of
 * every corpus, so the actor cannot read the scene it is being tested on.
 *
 * @module
 */

import { withCode } from "../../core/errors.ts";
import type { Book, BookPlot } from "./schemas.ts";
import { splitText } from "./text_splitter.ts";
import { removeThoughts } from "./thoughts.ts";

/** Embeds texts; returns one vector per text. */
export type EmbedFn = (texts: string[]) => Promise<number[][]>;

/** The three corpora. */
export type CorpusKind = "book" | "experience" | "conversation";

/** The retrieval variants of the paper and the retrievers (corpus, k) each one runs. */
export const RETRIEVAL_VARIANTS: Readonly<Record<string, readonly [CorpusKind, number][]>> = {
  raw_text: [["book", 1]],
  expr1: [["experience", 1]],
  expr3: [["experience", 3]],
  conv1: [["conversation", 1]],
  expr3_conv1: [["experience", 3], ["conversation", 1]],
  expr10_conv1: [["experience", 10], ["conversation", 1]],
};

/** A retrieval variant name. */
export type RetrievalVariant =
  | "raw_text"
  | "expr1"
  | "expr3"
  | "conv1"
  | "expr3_conv1"
  | "expr10_conv1";

const TITLES: Record<CorpusKind, string> = {
  book: "Book Content",
  experience: "Historical Experience",
  conversation: "Historical Conversation",
};

/** Options of {@link characterPlotIndices} and {@link buildCorpus}. */
export interface LeakageOptions {
  /** Leave out held-out plots and the test plot (default true). */
  leakageFilter?: boolean;
  /** The test record's plot index, excluded when filtering. */
  testPlot?: number;
}

/**
 * The indices of the plots a character appears in (its plot, conversation and utterance lists),
 * sorted, with the leakage filter applied.
 *
 * @example
 * ```ts ignore
 * import { characterPlotIndices } from "./retrieval.ts";
 * declare const book: import("./schemas.ts").Book;
 * characterPlotIndices(book, "Ada Venn", { testPlot: 3 });
 * ```
 */
export function characterPlotIndices(
  book: Book,
  name: string,
  options: LeakageOptions = {},
): number[] {
  const ds = book.character_datasets[name];
  if (!ds) return [];
  const all = new Set<number>([
    ...ds.plots.map((p) => p.i_p),
    ...ds.conversations.map((c) => c.i_p),
    ...ds.utterances.map((u) => u.i_p),
  ]);
  const filter = options.leakageFilter ?? true;
  return [...all].filter((i) => i >= 0 && i < book.plots.length).filter((i) =>
    !filter || (i < book.split_plot_index && i !== options.testPlot)
  ).sort((a, b) => a - b);
}

function experienceText(plot: BookPlot, name: string): string {
  const exp = plot.key_characters.find((k) => k.name === name)?.experience ?? "";
  return exp ? `PLOT: ${plot.summary}\n${name}'s role: ${exp}` : `PLOT: ${plot.summary}`;
}

/** Renders one conversation of a plot for the conversation corpus (thoughts removed). */
export function conversationText(plot: BookPlot, i_c: number): string {
  const c = plot.conversation[i_c];
  const lines = c.dialogues.map((d) => `${d.character}: ${removeThoughts(d.message)}`);
  return `Plot Background:\n${plot.summary}\n\nScenario:\n${c.scenario}\n\ntopic:\n${c.topic}\n\n` +
    `Conversation:\n${lines.join("\n\n")}`;
}

/**
 * The documents of one corpus for a character (before chunking).
 *
 * @example
 * ```ts ignore
 * import { buildCorpus } from "./retrieval.ts";
 * declare const book: import("./schemas.ts").Book;
 * const docs = buildCorpus(book, "Ada Venn", "experience", { testPlot: 3 });
 * ```
 */
export function buildCorpus(
  book: Book,
  name: string,
  kind: CorpusKind,
  options: LeakageOptions = {},
): string[] {
  const plots = characterPlotIndices(book, name, options).map((i) => book.plots[i]);
  if (kind === "book") return plots.map((p) => p.text).filter((t) => t.trim());
  if (kind === "experience") return plots.map((p) => experienceText(p, name));
  return plots.flatMap((p) => p.conversation.map((_, i) => conversationText(p, i)));
}

/** Cosine similarity; 0 when either vector is all zeros. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) {
    throw withCode(
      new RangeError(
        `embedding sizes differ (${a.length} vs ${b.length}); use one embedding model`,
      ),
      "E_DATA",
    );
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
 * Indices of the `k` vectors most similar to `query`, best first (ties: lower index first).
 *
 * @example
 * ```ts
 * import { topK } from "./retrieval.ts";
 * topK([1, 0], [[0, 1], [1, 0.1], [1, 0]], 2); // [2, 1]
 * ```
 */
export function topK(query: readonly number[], vectors: readonly number[][], k: number): number[] {
  return vectors.map((v, i) => ({ i, s: cosine(query, v) }))
    .sort((a, b) => b.s - a.s || a.i - b.i).slice(0, k).map((x) => x.i);
}

/** A chunked, embedded corpus. */
export interface CorpusIndex {
  kind: CorpusKind;
  chunks: string[];
  vectors: number[][];
}

/** Chunks (1000 / 200) and embeds documents. */
export async function indexCorpus(
  kind: CorpusKind,
  docs: string[],
  embed: EmbedFn,
): Promise<CorpusIndex> {
  const chunks = docs.flatMap((d) => splitText(d, { chunkSize: 1000, chunkOverlap: 200 }));
  const vectors = chunks.length ? await embed(chunks) : [];
  if (vectors.length !== chunks.length) {
    throw withCode(
      new RangeError(
        `embed returned ${vectors.length} vectors for ${chunks.length} texts; return one per text`,
      ),
      "E_DATA",
    );
  }
  return { kind, chunks, vectors };
}

/** Renders one retriever's hits (re-sorted by chunk index) under its header. */
export function renderHits(kind: CorpusKind, chunks: string[]): string {
  const title = TITLES[kind];
  if (chunks.length === 1) return `====${title}====\n${chunks[0]}`;
  return `====${title}====\n` + chunks.map((c, i) => `${title} ${i + 1}:\n${c}`).join("\n\n");
}

/** A character's retriever for one variant. */
export interface CharacterRetriever {
  variant: RetrievalVariant;
  /** The background text that replaces the prompt's retrieval slot for this query. */
  retrieve(query: string): Promise<string>;
}

/**
 * Builds a character's retriever for a variant, or `null` when the character has no entry in the
 * book's `character_datasets` (the paper retrieves only for such characters).
 *
 * @example
 * ```ts ignore
 * import { buildRetriever } from "./retrieval.ts";
 * declare const book: import("./schemas.ts").Book;
 * const embed = (texts: string[]) => Promise.resolve(texts.map((t) => [t.length, 1]));
 * const r = await buildRetriever(book, "Ada Venn", "expr3_conv1", embed, { testPlot: 3 });
 * if (r) console.log(await r.retrieve("Where is the ledger?"));
 * ```
 */
export async function buildRetriever(
  book: Book,
  name: string,
  variant: RetrievalVariant,
  embed: EmbedFn,
  options: LeakageOptions = {},
): Promise<CharacterRetriever | null> {
  const spec = RETRIEVAL_VARIANTS[variant];
  if (!spec) {
    throw withCode(
      new RangeError(
        `retrieval variant is ${JSON.stringify(variant)}; use one of ${
          Object.keys(RETRIEVAL_VARIANTS).join(", ")
        }`,
      ),
      "E_CONFIG",
    );
  }
  if (!book.character_datasets[name]) return null;
  const indices = await Promise.all(
    spec.map(([kind]) => indexCorpus(kind, buildCorpus(book, name, kind, options), embed)),
  );
  return {
    variant,
    async retrieve(query: string): Promise<string> {
      const [q] = await embed([query]);
      const parts = indices.map((idx, r) => {
        if (idx.chunks.length === 0) return "";
        const hits = topK(q, idx.vectors, spec[r][1]).sort((a, b) => a - b);
        return renderHits(idx.kind, hits.map((h) => idx.chunks[h]));
      }).filter((p) => p);
      return `<begin of background information>\n\n${
        parts.join("\n\n")
      }\n\n<end of background information>`;
    },
  };
}
