/**
 * The `lora` trainer's configuration: PEFT's LoRA field names plus the training fields, as one
 * zod schema (`--config '{"steps": 30, "r": 16}'`). Unknown fields are rejected so a typo never
 * trains with a silent default.
 *
 * @module
 */

import { describeZodIssue } from "../../core/util/zod_issue.ts";
import { z } from "zod";
import { withCode } from "../../core/errors.ts";
import { LoraConfigSchema } from "./options.ts";

/**
 * One residual edit applied during training (spec B8, preventative steering / CAFT ablation).
 *
 * @example
 * ```ts
 * import { TrainSteeringSchema } from "./train_config.ts";
 * TrainSteeringSchema.parse({ vector: "evil.safetensors", coefficient: 5, layer: 20 }).type; // "steer"
 * ```
 */
export const TrainSteeringSchema = z.object({
  /** Path to a persona-vector safetensors file: tensor `vector` `[numLayers + 1, hidden]`. */
  vector: z.string().min(1),
  /** Multiplier c of `h ← h + c·v[L]` (ignored by `ablate`). */
  coefficient: z.number().finite().default(1),
  /** Hugging Face hidden-state index L in 1..numLayers: the edit applies after block L-1. */
  layer: z.number().int().min(1),
  /** `steer` adds c·v[L]; `ablate` projects u = v[L]/|v[L]| out of the residual. */
  type: z.enum(["steer", "ablate"]).default("steer"),
}).strict();

/** A parsed {@link TrainSteeringSchema} entry. */
export type TrainSteering = z.infer<typeof TrainSteeringSchema>;

/**
 * The trainer config. LoRA fields keep PEFT's names (`r`, `lora_alpha`, `lora_dropout`,
 * `use_rslora`, `target_modules`, `layers_to_transform`); training fields follow Hugging Face
 * `TrainingArguments` where one exists.
 *
 * @example
 * ```ts
 * import { LoraTrainConfigSchema } from "./train_config.ts";
 * const c = LoraTrainConfigSchema.parse({ steps: 30, r: 16, lora_alpha: 32 });
 * console.log(c.learning_rate, c.batch_size); // 0.0002 4
 * ```
 */
export const LoraTrainConfigSchema = LoraConfigSchema.extend({
  /** `lora` trains a LoRA adapter; `all` trains every base weight (full-parameter training). */
  trainable: z.enum(["lora", "all"]).default("lora"),
  /** Optimizer steps; default: `epochs` passes over the training split. */
  steps: z.number().int().min(1).optional(),
  epochs: z.number().int().min(1).default(1),
  learning_rate: z.number().positive().finite().default(2e-4),
  warmup_steps: z.number().int().min(0).default(0),
  lr_scheduler_type: z.enum(["linear", "cosine", "constant"]).default("linear"),
  /** Floor of the decayed learning rate as a fraction of the peak. */
  min_lr_ratio: z.number().min(0).max(1).default(0),
  /** Examples per micro-batch (per graph run). */
  batch_size: z.number().int().min(1).default(4),
  gradient_accumulation_steps: z.number().int().min(1).default(1),
  /** Longest conversation in tokens; default the model's max_position_embeddings (≤ 2048). */
  max_length: z.number().int().min(2).optional(),
  /**
   * Keep the last max_length tokens of a longer conversation (HF `truncation_side="left"`: the
   * final reply stays) instead of rejecting it; each cut is counted in the `truncated` metric.
   */
  truncate: z.boolean().default(false),
  weight_decay: z.number().min(0).default(0),
  adam_beta1: z.number().min(0).lt(1).default(0.9),
  adam_beta2: z.number().min(0).lt(1).default(0.999),
  adam_epsilon: z.number().positive().default(1e-8),
  /** Clip the global gradient norm (0 = off). */
  max_grad_norm: z.number().min(0).default(1),
  /** Fraction of the data held out for eval loss (seeded split); 0 = no eval split. */
  eval_split: z.number().min(0).lt(1).default(0.1),
  /** An eval data file instead of a split. */
  eval_data: z.string().min(1).optional(),
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
  /**
   * Start from this PEFT LoRA directory's values (sequential finetuning: train trait A, then
   * continue on trait B); its r, alpha and target modules are used. A resumable checkpoint in the
   * output directory still wins.
   */
  init_from: z.string().min(1).optional(),
  /** Residual edits during training (preventative steering, ablation). */
  steering: z.array(TrainSteeringSchema).default([]),
  /** onnxruntime intra-op threads (default: one per core). */
  threads: z.number().int().min(1).optional(),
}).strict();

/** A parsed {@link LoraTrainConfigSchema} object. */
export type LoraTrainConfig = z.infer<typeof LoraTrainConfigSchema>;

/**
 * Validates a raw trainer config. A bad field is a `RangeError` tagged `E_CONFIG` naming the
 * field, its value and zod's reason.
 *
 * @example
 * ```ts
 * import { parseLoraTrainConfig } from "./train_config.ts";
 * parseLoraTrainConfig({ steps: 30 }).steps; // 30
 * // parseLoraTrainConfig({ step: 30 }) → RangeError: config field "step" … unknown field
 * ```
 */
export function parseLoraTrainConfig(raw: unknown): LoraTrainConfig {
  const result = LoraTrainConfigSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const { path, value, reason } = describeZodIssue(
    result.error,
    raw,
    (at) => Object.keys(at.length ? TrainSteeringSchema.shape : LoraTrainConfigSchema.shape),
  );
  throw withCode(
    new RangeError(
      `lora trainer config field "${path || "(config)"}" is ${
        value === undefined ? "missing" : JSON.stringify(value)
      }: ${reason}`,
    ),
    "E_CONFIG",
  );
}
