/**
 * zod schemas for CoSER data: the GCA test-set record and the book-level curated file.
 *
 * The released CoSER test file names the per-character motivation `thought` and the plot-level
 * experience `summary`, while the simulator and the training code read `motivation` and
 * `experience`. The schemas accept either and normalise to `motivation` / `experience`, keeping
 * which field was found in `fields` so runs can log it.
 *
 * Released quirk: two test records (136 and 145 of `data/test/test_set.json`), and plots of the
 * released books `Othello` (2), `King Lear` (1) and `A Storm of Swords` (1), carry
 * `"chapter": null`. A null chapter means "unknown": test records keep `plot.chapter` absent and
 * set `nullChapter`, books read it as `""` and count it in `nullChapters`, and the commands report
 * the counts.
 *
 * @module
 */

import { z } from "zod";
import { withCode } from "../../core/errors.ts";

/** One utterance: a character name (or `Environment`) and the message `[thought] (action) speech`. */
export const DialogueSchema = z.object({ character: z.string(), message: z.string() });
/** An utterance of the curated data. */
export type Dialogue = z.infer<typeof DialogueSchema>;

/** The special speaker that voices the surroundings. */
export const ENVIRONMENT = "Environment";

const KeyCharacterInput = z.object({
  name: z.string(),
  motivation: z.string().optional(),
  thought: z.string().optional(),
  description: z.string().optional(),
}).loose();

const PlotCharacterInput = z.object({
  name: z.string(),
  description: z.string().optional(),
  experience: z.string().optional(),
  summary: z.string().optional(),
}).loose();

/** Which source field filled `motivation` and `experience` (`null`: none present). */
export interface FieldsUsed {
  motivation: "motivation" | "thought" | null;
  experience: "experience" | "summary" | null;
}

/** A key character of a conversation, normalised. */
export interface KeyCharacter {
  name: string;
  motivation: string;
  description?: string;
}

/** A key character of a plot, normalised. */
export interface PlotCharacter {
  name: string;
  description: string;
  experience: string;
}

/** The raw test-record schema, before normalisation. */
export const TestRecordInputSchema = z.object({
  book: z.string().min(1),
  i_p: z.number().int().min(0),
  i_c: z.number().int().min(0),
  tag: z.enum(["id", "ood"]).optional(),
  weight: z.number().optional(),
  scenario: z.string(),
  topic: z.string().default(""),
  key_characters: z.array(KeyCharacterInput).default([]),
  dialogues: z.array(DialogueSchema).min(1),
  speaking_characters_w_env: z.array(z.string()).min(1),
  major_characters: z.array(z.string()).default([]),
  plot: z.object({
    summary: z.string().default(""),
    prominence: z.number().optional(),
    chapter: z.string().nullable().optional(),
    state: z.string().optional(),
    i_chunk: z.number().optional(),
    i_p: z.number().optional(),
    key_characters: z.array(PlotCharacterInput).default([]),
  }).loose(),
  character_profiles: z.record(z.string(), z.string()).default({}),
}).loose();

/** A normalised test record (unknown extra fields are kept as they came). */
export interface TestRecord {
  book: string;
  i_p: number;
  i_c: number;
  tag?: "id" | "ood";
  weight?: number;
  scenario: string;
  topic: string;
  key_characters: KeyCharacter[];
  dialogues: Dialogue[];
  speaking_characters_w_env: string[];
  major_characters: string[];
  plot: {
    summary: string;
    prominence?: number;
    chapter?: string;
    state?: string;
    i_chunk?: number;
    i_p?: number;
    key_characters: PlotCharacter[];
    [extra: string]: unknown;
  };
  character_profiles: Record<string, string>;
  /** Which source fields were used. */
  fields: FieldsUsed;
  /** True when the record came with `plot.chapter: null` (read as unknown). */
  nullChapter?: boolean;
  [extra: string]: unknown;
}

function formatIssues(error: z.ZodError): string {
  return error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

/** The first zod issue's field path (`plot.summary`), for located errors. */
export function firstIssuePath(error: z.ZodError): string {
  return error.issues[0]?.path.join(".") || "(root)";
}

/**
 * Validates and normalises one CoSER test record.
 *
 * @example
 * ```ts
 * import { parseTestRecord } from "./schemas.ts";
 * const r = parseTestRecord({
 *   book: "B", i_p: 0, i_c: 0, scenario: "S", dialogues: [{ character: "A", message: "Hi" }],
 *   speaking_characters_w_env: ["A"], key_characters: [{ name: "A", thought: "wants tea" }],
 *   plot: { summary: "P" },
 * });
 * console.log(r.key_characters[0].motivation, r.fields.motivation); // "wants tea" "thought"
 * ```
 */
export function parseTestRecord(input: unknown, where = "test record"): TestRecord {
  const parsed = TestRecordInputSchema.safeParse(input);
  if (!parsed.success) {
    throw withCode(
      new TypeError(`${where} is malformed: ${formatIssues(parsed.error)}; fix the record`),
      "E_DATA",
    );
  }
  const r = parsed.data;
  const fields: FieldsUsed = { motivation: null, experience: null };
  const key_characters = r.key_characters.map((k) => {
    const used = k.motivation !== undefined
      ? "motivation"
      : k.thought !== undefined
      ? "thought"
      : null;
    fields.motivation ??= used;
    return { ...k, name: k.name, motivation: k.motivation ?? k.thought ?? "" };
  });
  const plotChars = r.plot.key_characters.map((k) => {
    const used = k.experience !== undefined
      ? "experience"
      : k.summary !== undefined
      ? "summary"
      : null;
    fields.experience ??= used;
    return { ...k, description: k.description ?? "", experience: k.experience ?? k.summary ?? "" };
  });
  // an already-normalised record keeps the provenance recorded when it was first parsed
  const prior = (input as { fields?: FieldsUsed }).fields;
  if (prior && typeof prior === "object" && "motivation" in prior && "experience" in prior) {
    fields.motivation = prior.motivation;
    fields.experience = prior.experience;
  }
  const { chapter, ...plot } = r.plot;
  const nullChapter = chapter === null || (input as { nullChapter?: boolean }).nullChapter === true;
  return {
    ...r,
    key_characters,
    plot: {
      ...plot,
      ...(typeof chapter === "string" ? { chapter } : {}),
      key_characters: plotChars,
    },
    fields,
    ...(nullChapter ? { nullChapter: true } : {}),
  };
}

/** Validates and normalises a test file (a JSON array of records). */
export function parseTestSet(input: unknown): TestRecord[] {
  if (!Array.isArray(input)) {
    throw withCode(
      new TypeError(`test set is ${typeof input}; pass a JSON array of records`),
      "E_DATA",
    );
  }
  return input.map((r, i) => parseTestRecord(r, `test record ${i}`));
}

const ConversationSchema = z.object({
  scenario: z.string().default(""),
  topic: z.string().default(""),
  key_characters: z.array(KeyCharacterInput).default([]),
  dialogues: z.array(DialogueSchema).default([]),
}).loose();

/** One plot of a book file. */
export const BookPlotSchema = z.object({
  text: z.string().default(""),
  summary: z.string().default(""),
  prominence: z.number().optional(),
  // Released books (e.g. Othello) carry `"chapter": null`; it reads as "".
  chapter: z.string().nullable().default("").transform((v) => v ?? ""),
  state: z.string().default("finished"),
  i_chunk: z.number().int().optional(),
  key_characters: z.array(PlotCharacterInput).default([]),
  conversation: z.array(ConversationSchema).default([]),
}).loose();

/** The per-character indices of a book file. */
export const CharacterDatasetSchema = z.object({
  plots: z.array(z.object({ i_p: z.number().int() }).loose()).default([]),
  conversations: z.array(z.object({ i_p: z.number().int(), i_c: z.number().int() }).loose())
    .default([]),
  utterances: z.array(
    z.object({ i_p: z.number().int(), i_c: z.number().int(), i_u: z.number().int() }).loose(),
  ).default([]),
  profile: z.string().default(""),
});

/** A character's indices into a book. */
export type CharacterDataset = z.infer<typeof CharacterDatasetSchema>;

/** The raw book schema (`data/final/<book>.json`). */
export const BookInputSchema = z.object({
  plots: z.array(BookPlotSchema),
  character_datasets: z.record(z.string(), CharacterDatasetSchema).default({}),
  split_plot_index: z.number().int().min(0).optional(),
}).loose();

/** A normalised book: plots with `experience` / `motivation`, and a split index. */
export interface Book {
  plots: BookPlot[];
  character_datasets: Record<string, CharacterDataset>;
  split_plot_index: number;
  fields: FieldsUsed;
  /** Plots that came with `"chapter": null` (read as ""). */
  nullChapters: number;
}

/** A normalised plot. */
export interface BookPlot {
  text: string;
  summary: string;
  prominence?: number;
  chapter: string;
  state: string;
  i_chunk?: number;
  key_characters: PlotCharacter[];
  conversation: Conversation[];
  [extra: string]: unknown;
}

/** A normalised conversation. */
export interface Conversation {
  scenario: string;
  topic: string;
  key_characters: KeyCharacter[];
  dialogues: Dialogue[];
  [extra: string]: unknown;
}

/**
 * Validates and normalises a book file; `split_plot_index` defaults to ⌊0.9 · #plots⌋.
 *
 * @example
 * ```ts
 * import { parseBook } from "./schemas.ts";
 * const b = parseBook({ plots: [{ text: "t", summary: "s", key_characters: [{ name: "A", summary: "x" }] }] });
 * console.log(b.split_plot_index, b.plots[0].key_characters[0].experience); // 0 "x"
 * ```
 */
export function parseBook(input: unknown, where = "book"): Book {
  const parsed = BookInputSchema.safeParse(input);
  if (!parsed.success) {
    throw withCode(
      new TypeError(`${where} is malformed: ${formatIssues(parsed.error)}; fix the book file`),
      "E_DATA",
    );
  }
  const fields: FieldsUsed = { motivation: null, experience: null };
  const nullChapters = (input as { plots: { chapter?: unknown }[] }).plots
    .filter((p) => p?.chapter === null).length;
  const plots = parsed.data.plots.map((p) => ({
    ...p,
    key_characters: p.key_characters.map((k) => {
      fields.experience ??= k.experience !== undefined
        ? "experience"
        : k.summary !== undefined
        ? "summary"
        : null;
      return {
        ...k,
        description: k.description ?? "",
        experience: k.experience ?? k.summary ?? "",
      };
    }),
    conversation: p.conversation.map((c) => ({
      ...c,
      key_characters: c.key_characters.map((k) => {
        fields.motivation ??= k.motivation !== undefined
          ? "motivation"
          : k.thought !== undefined
          ? "thought"
          : null;
        return { ...k, motivation: k.motivation ?? k.thought ?? "" };
      }),
    })),
  }));
  const split = parsed.data.split_plot_index ?? Math.floor(0.9 * plots.length);
  return {
    plots,
    character_datasets: parsed.data.character_datasets,
    split_plot_index: split,
    fields,
    nullChapters,
  };
}
