/**
 * Reads annotators' labels back: the JSON file the HTML form saves, or the CSV sheet filled in a
 * spreadsheet. Every label is checked against the key (item, question, allowed answer); a problem
 * is a `TypeError` tagged `E_DATA` naming the file, the record and the field.
 *
 * @module
 */

import { basename, extname } from "node:path";
import { withCode } from "../errors.ts";
import { fromCsv } from "./csv.ts";
import type { HumanEvalKey } from "./export_set.ts";

/** One annotator's labels. */
export interface LabelSet {
  annotator: string;
  file: string;
  /** anonymous item id → question id → answer. */
  labels: Map<string, Record<string, string>>;
}

function bad(message: string): TypeError {
  return withCode(new TypeError(message), "E_DATA");
}

function check(
  key: HumanEvalKey,
  file: string,
  where: string,
  item: string,
  answers: Record<string, unknown>,
): Record<string, string> {
  if (!key.items.some((i) => i.anon === item)) {
    throw bad(
      `${file}: ${where} names item "${item}", which is not in the key; ` +
        `label the items of this export (item-001 …) or use the key it came with`,
    );
  }
  const out: Record<string, string> = {};
  for (const [q, v] of Object.entries(answers)) {
    const question = key.questions.find((x) => x.id === q);
    if (!question) {
      throw bad(
        `${file}: ${where}, item "${item}": no question "${q}"; use one of ${
          key.questions.map((x) => x.id).join(", ")
        }`,
      );
    }
    if (v === "" || v === null || v === undefined) continue;
    if (typeof v !== "string" || !question.choices.includes(v)) {
      throw bad(
        `${file}: ${where}, item "${item}", field ${q} is ${JSON.stringify(v)}; use one of ${
          question.choices.join(", ")
        }`,
      );
    }
    out[q] = v;
  }
  return out;
}

/**
 * Reads one labels file (`.json` from the form, or `.csv` with columns `item` and the question
 * ids). The annotator is the file's own name field, else `annotator`, else the file name.
 *
 * @example
 * ```ts ignore
 * import { readLabels } from "./labels.ts";
 * const labels = await readLabels("labels_ann1.json", key);
 * console.log(labels.annotator, labels.labels.size);
 * ```
 */
export async function readLabels(
  file: string,
  key: HumanEvalKey,
  annotator?: string,
): Promise<LabelSet> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw bad(`${file} cannot be read (${(e as Error).message}); pass a labels file`);
  }
  const labels = new Map<string, Record<string, string>>();
  if (extname(file).toLowerCase() === ".csv") {
    const rows = fromCsv(text).filter((r) => r.some((c) => c.trim() !== ""));
    const header = rows[0] ?? [];
    const itemCol = header.indexOf("item");
    if (itemCol < 0) {
      throw bad(`${file}: the header has no "item" column; keep the header of items.csv`);
    }
    const qCols = key.questions.map((q) => [q.id, header.indexOf(q.id)] as const)
      .filter(([, i]) => i >= 0);
    if (!qCols.length) {
      throw bad(
        `${file}: the header names none of the questions ${
          key.questions.map((q) => q.id).join(", ")
        }`,
      );
    }
    for (const [r, row] of rows.slice(1).entries()) {
      const item = (row[itemCol] ?? "").trim();
      const answers = Object.fromEntries(qCols.map(([q, i]) => [q, (row[i] ?? "").trim()]));
      const ok = check(key, file, `row ${r + 2}`, item, answers);
      if (Object.keys(ok).length) labels.set(item, ok);
    }
    return { annotator: annotator ?? basename(file, extname(file)), file, labels };
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(`${file} is not JSON (${(e as Error).message}); pass the file the form saved`);
  }
  if (doc?.format !== "dramatis-human-eval-labels") {
    throw bad(
      `${file}: field "format" is ${
        JSON.stringify(doc?.format)
      }; expected "dramatis-human-eval-labels" (the form's "Save labels" file)`,
    );
  }
  if (doc.set !== key.set) {
    throw bad(
      `${file}: field "set" is ${JSON.stringify(doc.set)} but the key is for set "${key.set}"; ` +
        `these labels belong to another export — pass the key.json written with their form`,
    );
  }
  const raw = doc.labels;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw bad(`${file}: field "labels" must be an object {item: {question: answer}}`);
  }
  for (const [item, answers] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof answers !== "object" || answers === null) {
      throw bad(`${file}: labels.${item} must be an object {question: answer}`);
    }
    const ok = check(key, file, `labels.${item}`, item, answers as Record<string, unknown>);
    if (Object.keys(ok).length) labels.set(item, ok);
  }
  const who = typeof doc.annotator === "string" && doc.annotator ? doc.annotator : undefined;
  return { annotator: who ?? annotator ?? basename(file, extname(file)), file, labels };
}
