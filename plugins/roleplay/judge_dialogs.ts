/**
 * Judging dialogue files: every record goes to the indistinguishability judge, and the verdicts
 * are totalled per inquirer model.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { Verdict } from "../../core/contracts/judge.ts";
import {
  aggregateByInquirer,
  indistinguishabilityJudge,
  type IndistinguishabilityStats,
  type IndistinguishabilityVerdict,
} from "./indistinguishability_judge.ts";
import { type DialogRecord, readDialogRecords } from "./record.ts";

/** One judged dialogue, as written to the verdicts JSONL. */
export interface JudgedDialog {
  /** The dialogue file and the record's line position in it (0-based among records). */
  file: string;
  index: number;
  /** The record's `id`, when it has one. */
  id: string | null;
  inquirer: string;
  verdict: Verdict<IndistinguishabilityVerdict>;
}

/** Options of {@link judgeDialogs}. */
export interface JudgeDialogsOptions {
  /** Dialogue JSONL files (records as the generate command writes them). */
  files: readonly string[];
  /** The judging model. */
  model: ChatModel;
  seed?: number;
  maxRetries?: number;
  maxTokens?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number, judged: JudgedDialog): void;
}

/**
 * The inquirer a record belongs to: its `inquirer` field, else the `<inquirer>` folder of the
 * reference layout `dialogs/<inquirer>/<run>/<seed>.jsonl`, else the file name.
 *
 * @example
 * ```ts
 * import { inquirerOf } from "./judge_dialogs.ts";
 * const r = { persona: "p", sample: {}, num_turns: 0, dialog: [] };
 * console.log(inquirerOf(r, "runs/dialogs/Mixtral/ab12/5.jsonl")); // "Mixtral"
 * ```
 */
export function inquirerOf(record: DialogRecord, file: string): string {
  if (record.inquirer) return record.inquirer;
  const inquirerDir = dirname(dirname(file));
  if (basename(dirname(inquirerDir)) === "dialogs") return basename(inquirerDir);
  return basename(file, ".jsonl");
}

/**
 * Judges every record of the files and aggregates the verdicts per inquirer. Unparsable verdicts
 * are `null` with a reason and counted as `failed`, never as "simulated".
 *
 * @example
 * ```ts ignore
 * import { judgeDialogs } from "./judge_dialogs.ts";
 * declare const judge: import("../../core/contracts/chat_model.ts").ChatModel;
 * const { stats } = await judgeDialogs({ files: ["runs/dialogs/gpt/ab12/5.jsonl"], model: judge });
 * console.log(stats[0].indistinguishability_rate);
 * ```
 */
export async function judgeDialogs(
  options: JudgeDialogsOptions,
): Promise<{ judged: JudgedDialog[]; stats: IndistinguishabilityStats[] }> {
  const judge = indistinguishabilityJudge({
    maxRetries: options.maxRetries,
    maxTokens: options.maxTokens,
  });
  const items: { file: string; index: number; record: DialogRecord }[] = [];
  for (const file of options.files) {
    const { records } = await readDialogRecords(file);
    records.forEach((record, index) => items.push({ file, index, record }));
  }
  const judged: JudgedDialog[] = [];
  for (const { file, index, record } of items) {
    options.signal?.throwIfAborted();
    const goal = typeof record.sample.instruction === "string"
      ? record.sample.instruction
      : undefined;
    const verdict = await judge.judge({ dialog: record.dialog, goal }, {
      model: options.model,
      seed: options.seed,
      signal: options.signal,
    });
    const entry: JudgedDialog = {
      file,
      index,
      id: record.id ?? null,
      inquirer: inquirerOf(record, file),
      verdict,
    };
    judged.push(entry);
    options.onProgress?.(judged.length, items.length, entry);
  }
  return { judged, stats: aggregateByInquirer(judged) };
}
