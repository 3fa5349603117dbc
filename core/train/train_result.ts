/**
 * The end of a training run, shared by every trainer: the summary metrics it returns and the
 * `train_result.json` it leaves in its output directory.
 *
 * @module
 */

import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic.ts";
import type { SkippedRecord } from "./chat_data.ts";
import type { TrainLoopResult } from "./train_loop.ts";

/** What a run trained on. */
export interface TrainDataSummary {
  train: readonly unknown[];
  eval: readonly unknown[];
  skipped: readonly SkippedRecord[];
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
    trained_parameters: trainedParameters,
    loss_tokens: result.tokens,
    input_tokens: result.inputTokens,
    seconds: result.seconds,
    tokens_per_second: result.inputTokens / Math.max(result.seconds, 1e-9),
  };
  if (result.evalLoss !== undefined) metrics.eval_loss = result.evalLoss;
  const first = result.evals.find((e) => e.step === 0);
  if (first) metrics.initial_eval_loss = first.loss;
  return metrics;
}

/**
 * Writes `<out>/train_result.json` (metrics, evals, skipped records with file and line, the last
 * checkpoint) atomically; `extra` fields are added at the top level.
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
      reason: k.reason,
    })),
    checkpoint: result.checkpoint ?? null,
  });
}
