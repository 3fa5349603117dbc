/**
 * Exports a human-evaluation set for annotators: items shuffled with a seed and renamed
 * `item-001…` (original ids, truth, judge answers and meta stay in the private key file), as a
 * self-contained HTML form and as a CSV sheet with one empty column per question.
 *
 * @module
 */

import { join } from "node:path";
import { canonicalJson, sha256Hex } from "../chat/canonical_json.ts";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.ts";
import { Prng } from "../util/prng.ts";
import { annotationFormHtml } from "./annotation_form.ts";
import { toCsv } from "./csv.ts";
import type { HumanEvalQuestion, HumanEvalSet } from "./items.ts";

/** One item of the key: the anonymous id and everything hidden from annotators. */
export interface KeyItem {
  anon: string;
  id: string;
  truth?: Record<string, string>;
  judge?: Record<string, string>;
  meta?: Record<string, unknown>;
}

/** The private key written next to the form (`key.json`): keep it away from annotators. */
export interface HumanEvalKey {
  format: "dramatis-human-eval-key";
  version: 1;
  task: HumanEvalSet["task"];
  title: string;
  /** Hash of what annotators see; labels files carry it. */
  set: string;
  seed: number;
  questions: HumanEvalQuestion[];
  /** In the order shown to annotators. */
  items: KeyItem[];
}

/** Files written by {@link exportHumanEval}. */
export interface ExportedFiles {
  form: string;
  csv: string;
  key: string;
  items: number;
  set: string;
}

/** Turns an item's turns into one text cell / block. */
export function itemContent(
  item: { text?: string; turns?: { speaker: string; content: string }[] },
) {
  return [
    ...(item.text !== undefined ? [item.text] : []),
    ...(item.turns ?? []).map((t) => `${t.speaker}: ${t.content}`),
  ].join("\n");
}

/**
 * Seeded Fisher–Yates shuffle (returns a new array).
 *
 * @example
 * ```ts
 * import { shuffled } from "./export_set.ts";
 * shuffled([1, 2, 3], 0).length; // 3
 * ```
 */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = xs.slice();
  const rng = new Prng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng.next() * (i + 1)));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Writes `form.html`, `items.csv` and `key.json` into `out`.
 *
 * @example
 * ```ts ignore
 * import { exportHumanEval } from "./export_set.ts";
 * const files = await exportHumanEval(set, { out: "runs/human", seed: 1 });
 * console.log(files.form); // runs/human/form.html — send it to annotators; keep key.json
 * ```
 */
export async function exportHumanEval(
  set: HumanEvalSet,
  options: { out: string; seed?: number },
): Promise<ExportedFiles> {
  const seed = options.seed ?? 0;
  const width = Math.max(3, String(set.items.length).length);
  const order = shuffled(set.items, seed).map((item, k) => ({
    item,
    anon: `item-${String(k + 1).padStart(width, "0")}`,
  }));
  const shown = order.map(({ item, anon }) => ({ anon, text: item.text, turns: item.turns }));
  const hash = (await sha256Hex(canonicalJson({
    title: set.title,
    questions: set.questions,
    items: shown,
  }))).slice(0, 16);
  await Deno.mkdir(options.out, { recursive: true });
  const form = join(options.out, "form.html");
  const csv = join(options.out, "items.csv");
  const key = join(options.out, "key.json");
  await writeFileAtomic(
    form,
    annotationFormHtml({
      title: set.title,
      instructions: set.instructions,
      questions: set.questions,
      items: shown,
      setHash: hash,
    }),
  );
  await writeFileAtomic(
    csv,
    toCsv([
      ["item", "content", ...set.questions.map((q) => q.id)],
      ...shown.map((s) => [s.anon, itemContent(s), ...set.questions.map(() => "")]),
    ]),
  );
  const keyDoc: HumanEvalKey = {
    format: "dramatis-human-eval-key",
    version: 1,
    task: set.task,
    title: set.title,
    set: hash,
    seed,
    questions: set.questions,
    items: order.map(({ item, anon }) => ({
      anon,
      id: item.id,
      ...(item.truth ? { truth: item.truth } : {}),
      ...(item.judge ? { judge: item.judge } : {}),
      ...(item.meta ? { meta: item.meta } : {}),
    })),
  };
  await writeJsonAtomic(key, keyDoc);
  return { form, csv, key, items: order.length, set: hash };
}
