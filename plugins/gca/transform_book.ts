/**
 * One book file → training and test data (CoSER §1.8): ShareGPT samples of the training plots
 * (four variants per conversation and speaker, next-speaker samples for about 10% of the
 * conversations), shuffled with a seeded generator, and test records sampled from the held-out
 * plots by weight.
 *
 * @module
 */

import { Prng } from "../../core/util/prng.ts";
import { type Book, ENVIRONMENT } from "./schemas.ts";
import { bookToShareGpt, type ShareGptSample, VARIANTS } from "./transform/sharegpt.ts";
import { sampleTestRecords, type TestRecordJson, toTestRecord } from "./transform/test_records.ts";
import { END_CHAT } from "./speaker.ts";

/** Options of {@link transformBook}. */
export interface TransformBookOptions {
  seed?: number;
  /** Share of conversations that also give a next-speaker sample (default 0.1). */
  nspRate?: number;
  /** Most test records (default 100). */
  testSize?: number;
  tag?: "id" | "ood";
}

/** What {@link transformBook} returns. */
export interface TransformedBook {
  samples: ShareGptSample[];
  testRecords: TestRecordJson[];
  stats: {
    trainPlots: number;
    heldOutPlots: number;
    conversations: number;
    variants: number;
    characterSamples: number;
    environmentSamples: number;
    nspSamples: number;
    testCandidates: number;
    testRecords: number;
  };
}

/** Fisher–Yates shuffle with a seeded generator. */
export function shuffle<T>(items: T[], prng: Prng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * Transforms a parsed book.
 *
 * @example
 * ```ts ignore
 * import { parseBook } from "./schemas.ts";
 * import { transformBook } from "./transform_book.ts";
 * const book = parseBook(JSON.parse(await Deno.readTextFile("The Salt Road.json")));
 * const { samples, testRecords, stats } = transformBook(book, "The Salt Road", { seed: 42 });
 * ```
 */
export function transformBook(
  book: Book,
  title: string,
  options: TransformBookOptions = {},
): TransformedBook {
  const prng = new Prng(options.seed ?? 42);
  const raw = bookToShareGpt(book, title, { prng, nspRate: options.nspRate ?? 0.1 });
  const isNsp = (s: ShareGptSample) => s.conversations.at(-1)?.value.trim() === END_CHAT;
  const isEnv = (s: ShareGptSample) =>
    !isNsp(s) &&
    s.conversations.some((t) => t.from === "assistant" && t.value.startsWith(`${ENVIRONMENT}:`));
  const candidates: TestRecordJson[] = [];
  for (let i_p = book.split_plot_index; i_p < book.plots.length; i_p++) {
    book.plots[i_p].conversation.forEach((_, i_c) => {
      const r = toTestRecord(book, title, i_p, i_c, options.tag ?? "ood");
      if (r) candidates.push(r);
    });
  }
  const testRecords = sampleTestRecords(candidates, options.testSize ?? 100, prng);
  const samples = shuffle(raw, prng);
  const train = book.plots.slice(0, book.split_plot_index);
  return {
    samples,
    testRecords,
    stats: {
      trainPlots: train.length,
      heldOutPlots: book.plots.length - train.length,
      conversations: train.reduce((s, p) => s + p.conversation.length, 0),
      variants: VARIANTS.length,
      characterSamples: samples.filter((s) => !isNsp(s) && !isEnv(s)).length,
      environmentSamples: samples.filter(isEnv).length,
      nspSamples: samples.filter(isNsp).length,
      testCandidates: candidates.length,
      testRecords: testRecords.length,
    },
  };
}
