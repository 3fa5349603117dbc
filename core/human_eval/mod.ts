/**
 * Human evaluation shared by the plugins: a set of items and questions (written by a plugin from
 * its outputs) is exported for annotators as a shuffled, anonymized HTML form and CSV sheet; their
 * labels are read back and reported against the truth and against the LLM judge (Cohen's κ with a
 * bootstrap interval). CLI: `deno task dramatis human-eval export|report`.
 *
 * @example
 * ```ts ignore
 * import { exportHumanEval, humanEvalReport, readKey, readLabels } from "./mod.ts";
 * const files = await exportHumanEval(set, { out: "runs/human", seed: 1 });
 * const key = await readKey(files.key);
 * const report = humanEvalReport(key, [await readLabels("labels_ann1.json", key)]);
 * ```
 *
 * @module
 */

export * from "./agreement.ts";
export * from "./annotation_form.ts";
export * from "./csv.ts";
export * from "./export_set.ts";
export * from "./items.ts";
export * from "./key.ts";
export * from "./labels.ts";
export * from "./report.ts";
