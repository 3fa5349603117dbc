/**
 * The shared training driver: everything a trainer does besides building its adapter and loading
 * its data. It checks the model and `max_length`, draws the eval split, writes
 * `train_config.json`, runs the core train loop (schedules, accumulation, clipping, eval,
 * checkpoints, exact resume), takes checkpoint snapshots of the adapter, writes the final
 * artifacts and `train_result.json`, and turns an abort into the resumable-stop error.
 *
 * A trainer is then: parse its config (the shared fields come from {@link TrainingFieldsSchema}),
 * `prepare` the model, load its data, build its adapter and train graph, and `run`.
 *
 * @module
 */

import { join } from "node:path";
import { z } from "zod";
import type { Adapter } from "../contracts/adapter.ts";
import type { ResidualEdit } from "../contracts/steerer.ts";
import type { TrainEvent, TrainRequest, TrainResult } from "../contracts/trainer.ts";
import { withCode } from "../errors.ts";
import { type DecoderConfig, readDecoderConfig } from "../model/config.ts";
import { resolveModel } from "../model/model_dir.ts";
import { loadTokenizer, type ModelTokenizer } from "../model/tokenizer.ts";
import type { NamedTensor } from "../train/adamw.ts";
import type { TrainGraph } from "../train/train_graph.ts";
import { trainLoop, type TrainLoopOptions } from "../train/train_loop.ts";
import {
  dataReportLines,
  type TrainDataSummary,
  trainMetrics,
  writeTrainResult,
} from "../train/train_result.ts";
import { writeJsonAtomic } from "../util/atomic.ts";
import { Prng } from "../util/prng.ts";

/**
 * The trainer config fields every trainer shares (Hugging Face `TrainingArguments` names); a
 * trainer's schema spreads `TrainingFieldsSchema.shape` and adds its own.
 */
export const TrainingFieldsSchema = z.object({
  /** Optimizer steps; default: `epochs` passes over the training split. */
  steps: z.number().int().min(1).optional(),
  lr_scheduler_type: z.enum(["linear", "cosine", "constant"]).default("linear"),
  /** Floor of the decayed learning rate as a fraction of the peak. */
  min_lr_ratio: z.number().min(0).max(1).default(0),
  /** Longest conversation in tokens; default the model's max_position_embeddings (≤ 2048). */
  max_length: z.number().int().min(2).optional(),
  /**
   * Keep the last max_length tokens of a longer conversation (HF `truncation_side="left"`: the
   * final reply stays) instead of rejecting it; each cut is logged and counted in the `truncated`
   * metric. On by default, as in TRL's SFT trainer; `false` makes an over-long conversation an
   * error naming the record (or a skip with `skip_invalid`).
   */
  truncate: z.boolean().default(true),
  weight_decay: z.number().min(0).default(0),
  adam_beta1: z.number().min(0).lt(1).default(0.9),
  adam_beta2: z.number().min(0).lt(1).default(0.999),
  adam_epsilon: z.number().positive().default(1e-8),
  /** Clip the global gradient norm (0 = off). */
  max_grad_norm: z.number().min(0).default(1),
  /** An eval data file instead of a split. */
  eval_data: z.string().min(1).optional(),
  /** Fraction of the data held out for eval loss (seeded split); 0 = no eval split. */
  eval_split: z.number().min(0).lt(1).default(0.1),
  /** Eval every N steps (and always at the end); 0 = end only. */
  eval_every: z.number().int().min(0).default(0),
  /** Also measure the eval loss before the first step (reported as `initial_eval_loss`). */
  eval_at_start: z.boolean().default(true),
  /** Checkpoint every N steps (and at the end). */
  save_every: z.number().int().min(0).default(0),
  /** Keep only the newest N checkpoints (0 = all). */
  save_total_limit: z.number().int().min(0).default(0),
  /** Continue from `<out>/checkpoints/latest.json` when present. */
  resume: z.boolean().default(true),
  /** Skip (and count) invalid records and over-long conversations instead of failing. */
  skip_invalid: z.boolean().default(false),
  /** Length bucketing of micro-batches. */
  group_by_length: z.boolean().default(true),
  /** onnxruntime intra-op threads (default: the run's `--threads`, else one per core). */
  threads: z.number().int().min(1).optional(),
});
/** The shared trainer config fields, parsed. */
export type TrainingFields = z.infer<typeof TrainingFieldsSchema>;

/** The model side of a training run. */
export interface TrainingSetup {
  modelDir: string;
  model: DecoderConfig;
  tok: ModelTokenizer;
  /** Longest tokenized example: `max_length`, else min(max_position_embeddings, 2048). */
  maxLength: number;
}

/**
 * Resolves the model (directory or hub id), reads its config and tokenizer, and checks
 * `max_length` against its context length (`E_CONFIG`).
 *
 * @example
 * ```ts ignore
 * import { prepareTraining } from "./training_driver.ts";
 * const s = await prepareTraining("./models/tiny", 512);
 * console.log(s.model.numLayers, s.maxLength);
 * ```
 */
export async function prepareTraining(model: string, maxLength?: number): Promise<TrainingSetup> {
  const { dir: modelDir } = await resolveModel(model);
  const config = await readDecoderConfig(modelDir);
  const tok = await loadTokenizer(modelDir);
  const max = maxLength ?? Math.min(config.maxPositionEmbeddings, 2048);
  if (max > config.maxPositionEmbeddings) {
    throw withCode(
      new RangeError(
        `max_length is ${max}, over the model's max_position_embeddings ${config.maxPositionEmbeddings}; lower it`,
      ),
      "E_CONFIG",
    );
  }
  return { modelDir, model: config, tok, maxLength: max };
}

/**
 * Holds out `round(n · eval_split)` examples (at least 1, leaving at least 1 to train on), drawn
 * with the config seed, so a later eval can redraw the same split.
 *
 * @example
 * ```ts
 * import { splitEval } from "./training_driver.ts";
 * const { train, eval: held } = splitEval([1, 2, 3, 4, 5], { eval_split: 0.2, seed: 0 });
 * console.log(train.length, held.length); // 4 1
 * ```
 */
export function splitEval<T>(
  examples: readonly T[],
  config: { eval_split: number; seed: number },
): { train: T[]; eval: T[] } {
  if (!(config.eval_split > 0) || examples.length < 2) return { train: [...examples], eval: [] };
  const n = Math.min(
    examples.length - 1,
    Math.max(1, Math.round(examples.length * config.eval_split)),
  );
  const order = new Prng(config.seed ^ 0x3e7a1).shuffle(examples.map((_, i) => i));
  const held = new Set(order.slice(0, n));
  return {
    train: examples.filter((_, i) => !held.has(i)),
    eval: examples.filter((_, i) => held.has(i)),
  };
}

/**
 * The error of a stopped run (`AbortError`, `E_USAGE`): the last checkpoint is kept and the same
 * `--out` resumes.
 *
 * @example
 * ```ts
 * import { trainingAborted } from "./training_driver.ts";
 * console.log(trainingAborted().name); // "AbortError"
 * ```
 */
export function trainingAborted(signal?: AbortSignal): Error {
  const reason = signal?.reason instanceof Error ? signal.reason.message : "aborted";
  const error = new Error(
    `training stopped (${reason}); the last checkpoint is kept, run again with the same --out to resume`,
  );
  error.name = "AbortError";
  return withCode(error, "E_USAGE");
}

/** Trainer-specific names for the schedule (the rest comes from {@link TrainingFields}). */
export interface TrainingSchedule {
  lr: number;
  epochs: number;
  microBatchSize: number;
  gradAccumulation: number;
  warmupSteps: number;
}

/** What a trainer hands {@link runTraining}. */
export interface TrainingPlan {
  request: TrainRequest;
  /** The shared config fields and the run's seed. */
  config: TrainingFields & { seed: number };
  /**
   * What `train_config.json` records besides the model and data (default: `config`, which is
   * the trainer's whole parsed config in the built-in trainers).
   */
  writtenConfig?: Record<string, unknown>;
  setup: TrainingSetup;
  data: TrainDataSummary & { train: TrainLoopData; eval: TrainLoopData };
  graph: TrainGraph;
  /** The values the loop updates in place (adapter parameters, or base weights). */
  params: NamedTensor[];
  schedule: TrainingSchedule;
  /** Adapters whose runtime inputs the steps feed. */
  adapters?: Adapter[];
  /** Residual edits applied during training (preventative steering). */
  residualEdits?: ResidualEdit[];
  /** The log line that opens the run. */
  description: string;
  /**
   * Saves the adapter into a checkpoint folder. It must copy what it saves before its first
   * `await`: the loop changes the live arrays on the next step.
   */
  snapshot?(dir: string): Promise<void>;
  /** Writes the final artifacts (also after an interrupted run: the parameters reached). */
  finish(): Promise<void>;
  /** Values counted as trained (default: every value of `params`). */
  trainedValues?: number;
  /** Extra fields of `train_result.json`. */
  resultExtra?: Record<string, unknown>;
  /** Progress bar (default: stderr is a terminal) and step runner. */
  progress?: boolean;
  runner?: "worker" | "in-process";
}

type TrainLoopData = Parameters<typeof trainLoop>[2];

/**
 * Runs a training plan: writes `train_config.json`, reports the data, runs the loop with
 * checkpoints and resume, writes the final artifacts and `train_result.json`.
 *
 * @example
 * ```ts ignore
 * import { runTraining } from "./training_driver.ts";
 * const result = await runTraining(plan);
 * console.log(result.metrics.train_loss);
 * ```
 */
export async function runTraining(plan: TrainingPlan): Promise<TrainResult> {
  const { request, config, data, schedule } = plan;
  const emit = (e: TrainEvent) => request.onEvent?.(e);
  if (request.signal?.aborted) throw trainingAborted(request.signal);
  for (const message of dataReportLines(data)) emit({ type: "log", message });
  await Deno.mkdir(request.out, { recursive: true });
  await writeJsonAtomic(join(request.out, "train_config.json"), {
    model: request.model,
    data: request.data,
    ...(plan.writtenConfig ?? config),
  });
  emit({ type: "log", message: plan.description });
  const pendingSaves: Promise<void>[] = [];
  const onEvent = (e: TrainEvent) => {
    if (e.type === "checkpoint" && plan.snapshot) {
      pendingSaves.push(plan.snapshot(join(e.path, "adapter")));
    }
    emit(e);
  };
  const loop: TrainLoopOptions = {
    steps: config.steps,
    epochs: schedule.epochs,
    microBatchSize: schedule.microBatchSize,
    gradAccumulation: schedule.gradAccumulation,
    lr: schedule.lr,
    warmupSteps: schedule.warmupSteps,
    decay: config.lr_scheduler_type,
    minLrRatio: config.min_lr_ratio,
    maxGradNorm: config.max_grad_norm,
    weightDecay: config.weight_decay,
    betas: [config.adam_beta1, config.adam_beta2],
    eps: config.adam_epsilon,
    seed: config.seed,
    bucketing: config.group_by_length,
    padTokenId: plan.setup.tok.padTokenId ?? plan.setup.tok.eosTokenIds[0] ?? 0,
    evalEvery: config.eval_every,
    evalAtStart: config.eval_at_start,
    out: request.out,
    checkpointEvery: config.save_every,
    keepCheckpoints: config.save_total_limit || undefined,
    resume: config.resume,
    progress: plan.progress ?? Deno.stderr.isTerminal(),
    runner: plan.runner,
    threads: config.threads ?? request.threads,
    provider: request.provider,
    adapters: plan.adapters ?? [],
    residualEdits: plan.residualEdits,
    onEvent,
    signal: request.signal,
  };
  const result = await trainLoop(
    plan.graph,
    plan.params,
    data.train,
    data.eval.length ? data.eval : undefined,
    loop,
  );
  await Promise.all(pendingSaves);
  await plan.finish();
  if (request.signal?.aborted) throw trainingAborted(request.signal);
  const metrics = trainMetrics(
    result,
    data,
    plan.trainedValues ?? plan.params.reduce((a, p) => a + p.data.length, 0),
  );
  await writeTrainResult(request.out, metrics, result, data, plan.resultExtra);
  return { out: request.out, steps: result.steps, metrics };
}

/**
 * The training driver as a service object (what plugins receive in their context).
 *
 * @example
 * ```ts
 * import { trainingDriver } from "./training_driver.ts";
 * console.log(typeof trainingDriver.run); // "function"
 * ```
 */
export const trainingDriver = {
  fields: TrainingFieldsSchema,
  prepare: prepareTraining,
  splitEval,
  run: runTraining,
  aborted: trainingAborted,
} as const;

/** The type of {@link trainingDriver}. */
export type TrainingDriver = typeof trainingDriver;
