/**
 * Held-out conversations → GCA test records (CoSER §1.8): record construction, the sampling
 * weight (mean over non-Environment speakers of max(1, √(number of plots the speaker appears
 * in))), and weighted sampling without replacement among the heaviest candidates.
 *
 * Records are written with the field names the simulator reads (`motivation`, `experience`);
 * `parseTestRecord` also accepts the released file's `thought` / `summary`.
 *
 * @module
 */

import type { Prng } from "../../../core/util/prng.ts";
import { type Book, ENVIRONMENT } from "../schemas.ts";
import { usableConversation } from "./sharegpt.ts";

/** A test record as written to JSON. */
export interface TestRecordJson {
  book: string;
  i_p: number;
  i_c: number;
  tag: "id" | "ood";
  weight: number;
  scenario: string;
  topic: string;
  key_characters: { name: string; motivation: string }[];
  dialogues: { character: string; message: string }[];
  speaking_characters_w_env: string[];
  major_characters: string[];
  plot: Record<string, unknown>;
  character_profiles: Record<string, string>;
}

/** Speakers ordered by number of utterances (descending), ties by first appearance. */
export function speakersByFrequency(dialogues: { character: string }[]): string[] {
  const count = new Map<string, number>();
  for (const d of dialogues) count.set(d.character, (count.get(d.character) ?? 0) + 1);
  const order = [...count.keys()];
  return order.sort((a, b) => count.get(b)! - count.get(a)! || order.indexOf(a) - order.indexOf(b));
}

function plotCount(book: Book, name: string): number {
  const d = book.character_datasets[name];
  if (!d) return 0;
  return new Set([...d.plots, ...d.conversations, ...d.utterances].map((x) => x.i_p)).size;
}

/**
 * Builds the test record of conversation `i_c` of plot `i_p`, or `null` when it is unusable.
 *
 * @example
 * ```ts ignore
 * import { toTestRecord } from "./test_records.ts";
 * declare const book: import("../schemas.ts").Book;
 * const r = toTestRecord(book, "The Salt Road", 9, 0, "ood");
 * ```
 */
export function toTestRecord(
  book: Book,
  title: string,
  i_p: number,
  i_c: number,
  tag: "id" | "ood",
): TestRecordJson | null {
  const plot = book.plots[i_p];
  const conv = plot?.conversation[i_c];
  if (!conv || !usableConversation(conv)) return null;
  const speakers = speakersByFrequency(conv.dialogues);
  const majors = speakers.filter((s) =>
    s !== ENVIRONMENT && book.character_datasets[s]?.profile.trim()
  );
  const chars = speakers.filter((s) => s !== ENVIRONMENT);
  const weight = chars.reduce((s, n) => s + Math.max(1, Math.sqrt(plotCount(book, n))), 0) /
    chars.length;
  return {
    book: title,
    i_p,
    i_c,
    tag,
    weight,
    scenario: conv.scenario,
    topic: conv.topic,
    key_characters: conv.key_characters.map((k) => ({ name: k.name, motivation: k.motivation })),
    dialogues: conv.dialogues.map((d) => ({ character: d.character, message: d.message })),
    speaking_characters_w_env: speakers,
    major_characters: majors,
    plot: {
      summary: plot.summary,
      prominence: plot.prominence,
      chapter: plot.chapter,
      state: plot.state,
      i_chunk: plot.i_chunk,
      i_p,
      key_characters: plot.key_characters.map((k) => ({
        name: k.name,
        description: k.description,
        experience: k.experience,
      })),
    },
    character_profiles: Object.fromEntries(
      majors.map((m) => [m, book.character_datasets[m].profile]),
    ),
  };
}

/**
 * Samples `n` records: keep the `max(n, half)` heaviest, then draw by weight without replacement.
 *
 * @example
 * ```ts ignore
 * import { Prng } from "../../../core/util/prng.ts";
 * import { sampleTestRecords } from "./test_records.ts";
 * declare const candidates: import("./test_records.ts").TestRecordJson[];
 * const picked = sampleTestRecords(candidates, 100, new Prng(42));
 * ```
 */
export function sampleTestRecords<T extends { weight: number }>(
  candidates: readonly T[],
  n: number,
  prng: Prng,
): T[] {
  const keep = Math.max(n, Math.floor(candidates.length / 2));
  const pool = [...candidates].map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.weight - a.c.weight || a.i - b.i).slice(0, keep);
  const out: T[] = [];
  while (out.length < n && pool.length) {
    const total = pool.reduce((s, x) => s + x.c.weight, 0);
    let u = prng.next() * total;
    let k = 0;
    while (k < pool.length - 1 && u >= pool[k].c.weight) u -= pool[k++].c.weight;
    out.push(pool.splice(k, 1)[0].c);
  }
  return out;
}
