/**
 * Chunk extraction (CoSER §1.9 steps 2–3): the prompt that asks a model for the plots,
 * characters and conversations of one chunk, the validator of its JSON reply, and the parser that
 * locates each plot's text in the chunk by fuzzy sentence matching. Prompt wording is this
 * project's own.
 *
 * @module
 */

import { z } from "zod";
import { bestSentence, sentencesWithOffsets } from "./similarity.ts";

const ExtractedCharacter = z.object({
  name: z.string().default(""),
  description: z.string().default(""),
  experience: z.string().default(""),
});

const ExtractedConversation = z.object({
  scenario: z.string().default(""),
  topic: z.string().default(""),
  key_characters: z.array(
    z.object({ name: z.string().default(""), motivation: z.string().default("") }),
  )
    .default([]),
  dialogues: z.array(
    z.object({ character: z.string().default(""), message: z.string().default("") }),
  )
    .default([]),
});

/** One plot as the model reports it. */
export const ExtractedPlotSchema = z.object({
  first_sentence: z.string().default(""),
  last_sentence: z.string().default(""),
  chapter: z.string().default(""),
  state: z.enum(["truncated", "finished"]).catch("finished"),
  summary: z.string(),
  prominence: z.coerce.number().catch(50),
  key_characters: z.array(ExtractedCharacter).default([]),
  conversation: z.array(ExtractedConversation).default([]),
});

/** A reported plot. */
export type ExtractedPlot = z.infer<typeof ExtractedPlotSchema>;

/** The reply of one extraction call. */
export interface ExtractionReply {
  plots: ExtractedPlot[];
  next_chunk_start: string | null;
}

/**
 * Validates an extraction reply: `{plots, next_chunk_start}`, a bare plot, or a plot list.
 * Throws a TypeError naming the first problem.
 */
export function validateExtraction(value: unknown): ExtractionReply {
  let plots: unknown = value;
  let next: unknown = null;
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if ("plots" in v) {
      plots = v.plots;
      next = v.next_chunk_start ?? null;
    } else plots = [v];
  }
  if (!Array.isArray(plots)) {
    throw new TypeError(`plots is ${typeof plots}; expected a list of plots`);
  }
  const parsed = z.array(ExtractedPlotSchema).safeParse(plots);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new TypeError(`plots.${i.path.join(".")}: ${i.message}`);
  }
  const nextStart = typeof next === "string" && next.trim() && !/^none$/i.test(next.trim())
    ? next
    : null;
  return { plots: parsed.data, next_chunk_start: nextStart };
}

/** What {@link buildExtractionPrompt} needs. */
export interface ExtractionPromptInput {
  book: string;
  chunk: string;
  /** The unextracted tail of the previous chunk, put before this chunk. */
  carryOver?: string;
  /** Plots left truncated by the previous chunk (without their text). */
  truncatedPlots?: unknown[];
  language?: "en" | "zh";
}

/**
 * Builds the extraction conversation for one chunk.
 *
 * @example
 * ```ts
 * import { buildExtractionPrompt } from "./extraction.ts";
 * const msgs = buildExtractionPrompt({ book: "The Salt Road", chunk: "Chapter 1\nMira woke." });
 * msgs[0].content.includes("next_chunk_start"); // true
 * ```
 */
export function buildExtractionPrompt(
  input: ExtractionPromptInput,
): { role: "system" | "user"; content: string }[] {
  const lang = input.language === "zh" ? "Chinese" : "English";
  const truncated = input.truncatedPlots?.length
    ? "\n\n===Plots left unfinished by the previous passage===\n" +
      JSON.stringify(input.truncatedPlots, null, 1) +
      "\nIf the passage continues any of them, report it again with the same summary and scenario, " +
      "updated with what happens here."
    : "";
  const system = [
    `You turn passages of the book ${input.book} into structured data for a role-playing corpus.`,
    "For the passage you receive:",
    "1. Identify its important plots (storylines). For each give the exact first and last sentence " +
    'of its span in the passage, the chapter title, and state: "truncated" if the passage ends ' +
    'before the plot does, else "finished".',
    "2. For each plot write a summary, a prominence score from 1 to 100, and its key characters " +
    "with a description (about 20 words) and their experience in this plot (about 30 words).",
    "3. For each conversation in a plot give the scenario, the topic, each key character's " +
    "motivation, and the dialogue. Stay faithful to the book and use at least 10 utterances. Each " +
    "message starts with the speaker's thought in [ ], written from their point of view, then any " +
    "action in ( ), then the words spoken. Add utterances by Environment for scene changes, " +
    "atmosphere and events.",
    "4. Give next_chunk_start: the first sentence of the last storyline you could not extract " +
    "because the passage ends, or null.",
    `Write in ${lang}, like the passage. Use characters' full names without titles. Answer with ` +
    "strict JSON only (escape quotes inside strings) in this shape:",
    '{"plots": [{"first_sentence": "", "last_sentence": "", "chapter": "", "state": "finished", ' +
    '"summary": "", "prominence": 50, "key_characters": [{"name": "", "description": "", ' +
    '"experience": ""}], "conversation": [{"scenario": "", "topic": "", "key_characters": ' +
    '[{"name": "", "motivation": ""}], "dialogues": [{"character": "", "message": ""}]}]}], ' +
    '"next_chunk_start": null}',
  ].join("\n");
  const text = (input.carryOver ? input.carryOver + "\n" : "") + input.chunk;
  return [
    { role: "system", content: system },
    { role: "user", content: `===Passage===\n${text}${truncated}` },
  ];
}

/** A plot located in its chunk. */
export interface LocatedPlot extends Omit<ExtractedPlot, "first_sentence" | "last_sentence"> {
  text: string;
  /** False when neither boundary sentence was found (the text is then empty). */
  located: boolean;
}

/**
 * Locates each plot's span in `text` (the carry-over plus the chunk) by matching its first and
 * last sentences (ratio ≥ 0.6) and computes the carry-over for the next chunk: the text from
 * `next_chunk_start`, minus its first 20%, advanced past the next newline (CoSER's rule).
 *
 * @example
 * ```ts
 * import { locatePlots } from "./extraction.ts";
 * const r = locatePlots("A woke. B ran. C slept.", { plots: [], next_chunk_start: null });
 * console.log(r.carryOver); // ""
 * ```
 */
export function locatePlots(
  text: string,
  reply: ExtractionReply,
): { plots: LocatedPlot[]; carryOver: string } {
  const sentences = sentencesWithOffsets(text);
  const plots = reply.plots.map(({ first_sentence, last_sentence, ...rest }) => {
    const first = first_sentence ? bestSentence(sentences, first_sentence) : undefined;
    const last = last_sentence
      ? bestSentence(sentences, last_sentence, 0.6, first?.index ?? 0)
      : undefined;
    if (!first && !last) return { ...rest, text: "", located: false };
    const start = first ? sentences[first.index].start : 0;
    const end = last ? sentences[last.index].end : text.length;
    return { ...rest, text: text.slice(start, end), located: true };
  });
  let carryOver = "";
  if (reply.next_chunk_start) {
    const hit = bestSentence(sentences, reply.next_chunk_start);
    if (hit) {
      const tail = text.slice(sentences[hit.index].start);
      const cut = tail.slice(Math.floor(tail.length * 0.2));
      const nl = cut.indexOf("\n");
      carryOver = nl >= 0 ? cut.slice(nl + 1) : "";
    }
  }
  return { plots, carryOver };
}
