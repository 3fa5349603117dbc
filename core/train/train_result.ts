/**
 * The end of a training run, shared by every trainer: the summary metrics it returns and the
 * `train_result.json` it leaves in its output directory.
 *
 * @module
 */

import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic.ts";
import { type SkippedRecord, sourceLabel, type TrimmedRecord } from "./chat_data.ts";
import type { TrainLoopResult } from "./train_loop.ts";
import type { TruncatedRecord } from "./truncate.ts";

/** What a run trained on. */
export interface TrainDataSummary {
  train: readonly unknown[];
  eval: readonly unknown[];
  skipped: readonly SkippedRecord[];
  /** Conversations kept after trimming a trailing unanswered user turn. */
  trimmed?: readonly TrimmedRecord[];
  /** Conversations cut at the token limit (the trainers' `truncate` option). */
  truncated?: readonly TruncatedRecord[];
}

/**
 * Counts of skipped records by reason code (`invalid` when a skip has no code).
 *
 * @example
 * ```ts
 * import { skippedByReason } from "./train_result.ts";
 * const src = { file: "d.json", line: 1 };
 * console.log(skippedByReason([{ source: src, reason: "x", code: "too_long" }])); // { too_long: 1 }
 * ```
 */
export function skippedByReason(skipped: readonly SkippedRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of skipped) {
    const code = k.code ?? "invalid";
    out[code] = (out[code] ?? 0) + 1;
  }
  return out;
}

/**
 * The log lines every trainer emits about its data before training: one `skipped …` line per
 * skipped record (file, line, record, reason code and reason) and one line counting the
 * conversations whose trailing user turn was trimmed, with their record indexes.
 *
 * @example
 * ```ts
 * import { dataReportLines } from "./train_result.ts";
 * const source = { file: "d.json", line: 3, record: 1 };
 * console.log(dataReportLines({ train: [], eval: [], skipped: [], trimmed: [{ source, turns: 1 }] }));
 * ```
 */
export function dataReportLines(data: TrainDataSummary): string[] {
  const lines = data.skipped.map((k) =>
    `skipped ${sourceLabel(k.source)}[${k.code ?? "invalid"}] ${k.reason}`
  );
  const trimmed = data.trimmed ?? [];
  if (trimmed.length > 0) {
    lines.push(
      `trimmed the trailing unanswered user turn of ${trimmed.length} conversation(s), which are ` +
        `kept for their earlier turns: ${recordList(trimmed)}`,
    );
  }
  const truncated = data.truncated ?? [];
  if (truncated.length > 0) {
    const longest = Math.max(...truncated.map((t) => t.tokens));
    lines.push(
      `truncated ${truncated.length} conversation(s) to their last max_length tokens (the longest ` +
        `had ${longest}): ${recordList(truncated)}`,
    );
  }
  return lines;
}

/** `file records 0, 2, …` grouped by file, at most 12 indexes per file. */
function recordList(items: readonly { source: { file: string; line: number; record?: number } }[]) {
  const byFile = new Map<string, string[]>();
  for (const t of items) {
    const list = byFile.get(t.source.file) ?? [];
    list.push(String(t.source.record ?? `line ${t.source.line}`));
    byFile.set(t.source.file, list);
  }
  return [...byFile].map(([file, recs]) =>
    `${file} record${recs.length > 1 ? "s" : ""} ${
      recs.length > 12 ? `${recs.slice(0, 12).join(", ")}, … (${recs.length})` : recs.join(", ")
    }`
  ).join("; ");
}

/**
 * Summary metrics of a finished run: steps, first/last/eval loss, example and token counts,
 * throughput.
 *
 * @example
 * ```ts ignore
 * import { trainMetrics } from "./train_result.ts";
 * const metrics = trainMetrics(result, data, 1_049_728);
 * ```
 */
export function trainMetrics(
  result: TrainLoopResult,
  data: TrainDataSummary,
  trainedParameters: number,
): Record<string, number> {
  const metrics: Record<string, number> = {
    steps: result.steps,
    train_loss: result.losses.at(-1) ?? NaN,
    first_loss: result.losses[0] ?? NaN,
    train_examples: data.train.length,
    eval_examples: data.eval.length,
    skipped: data.skipped.length,
    trimmed_trailing_user: data.trimmed?.length ?? 0,
    truncated: data.truncated?.length ?? 0,
    trained_parameters: trainedParameters,
    loss_tokens: result.tokens,
    input_tokens: result.inputTokens,
    seconds: result.seconds,
    tokens_per_second: result.inputTokens / Math.max(result.seconds, 1e-9),
  };
  for (const [code, n] of Object.entries(skippedByReason(data.skipped))) {
    metrics[`skipped_${code}`] = n;
  }
  if (result.evalLoss !== undefined) metrics.eval_loss = result.evalLoss;
  const first = result.evals.find((e) => e.step === 0);
  if (first) metrics.initial_eval_loss = first.loss;
  return metrics;
}

/**
 * Writes `<out>/train_result.json` (metrics, evals, skipped records with file, line, record and
 * reason code, trimmed records, the last checkpoint) atomically; `extra` fields are added at the top level.
 *
 * @example
 * ```ts ignore
 * import { writeTrainResult } from "./train_result.ts";
 * await writeTrainResult("./runs/lora", metrics, result, data);
 * ```
 */
export function writeTrainResult(
  out: string,
  metrics: Record<string, number>,
  result: TrainLoopResult,
  data: TrainDataSummary,
  extra: Record<string, unknown> = {},
): Promise<void> {
  return writeJsonAtomic(join(out, "train_result.json"), {
    metrics,
    evals: result.evals,
    ...extra,
    skipped: data.skipped.map((k) => ({
      file: k.source.file,
      line: k.source.line,
      ...(k.source.record === undefined ? {} : { record: k.source.record }),
      code: k.code ?? "invalid",
      reason: k.reason,
    })),
    trimmed_trailing_user: (data.trimmed ?? []).map((t) => ({
      file: t.source.file,
      line: t.source.line,
      ...(t.source.record === undefined ? {} : { record: t.source.record }),
      turns: t.turns,
    })),
    truncated: (data.truncated ?? []).map((t) => ({
      file: t.source.file,
      line: t.source.line,
      record: t.source.record,
      tokens: t.tokens,
    })),
    checkpoint: result.checkpoint ?? null,
  });
}
