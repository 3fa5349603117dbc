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
import { TrainingFieldsSchema } from "../../core/services/training_driver.ts";
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
  // The shared training fields (core/services/training_driver.ts).
  ...TrainingFieldsSchema.shape,
  epochs: z.number().int().min(1).default(1),
  learning_rate: z.number().positive().finite().default(2e-4),
  warmup_steps: z.number().int().min(0).default(0),
  /** Examples per micro-batch (per graph run). */
  batch_size: z.number().int().min(1).default(4),
  gradient_accumulation_steps: z.number().int().min(1).default(1),
  /**
   * Start from this PEFT LoRA directory's values (sequential finetuning: train trait A, then
   * continue on trait B); its r, alpha and target modules are used. A resumable checkpoint in the
   * output directory still wins.
   */
  init_from: z.string().min(1).optional(),
  /** Residual edits during training (preventative steering, ablation). */
  steering: z.array(TrainSteeringSchema).default([]),
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
