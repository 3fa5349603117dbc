/**
 * The `hirpf` trainer's configuration (`--config '{"steps": 40, "r": 8}'`): the adapter fields of
 * the plugin options (A5 defaults: alternate, hard mask, trainable gates, r = alpha = 16, dropout
 * 0.05, lr 1e-4, 100 warmup steps, effective batch 64 in micro-batches of 2) plus the training
 * fields of the `lora` trainer. Unknown fields are rejected so a typo never trains with a silent
 * default.
 *
 * @module
 */

import { describeZodIssue } from "../../core/util/zod_issue.ts";
import { z } from "zod";
import { withCode } from "../../core/errors.ts";
import { type HirpfOptions, HirpfOptionsSchema } from "./options.ts";

/** The plugin-option fields, all of which a trainer config may override. */
const ADAPTER_FIELDS = HirpfOptionsSchema.shape;

/**
 * The trainer config. `batch_size` is the effective batch (examples per optimizer step) and must
 * be a multiple of `micro_batch_size` (examples per graph run); the quotient is the gradient
 * accumulation.
 *
 * @example
 * ```ts
 * import { HirpfTrainConfigSchema } from "./train_config.ts";
 * const c = HirpfTrainConfigSchema.parse({ steps: 30 });
 * console.log(c.insert_mode, c.lr, c.warmup_steps, c.batch_size / c.micro_batch_size); // alternate 0.0001 100 32
 * ```
 */
export const HirpfTrainConfigSchema = z.object({
  ...ADAPTER_FIELDS,
  /** Optimizer steps; default: `epochs` passes over the training file. */
  steps: z.number().int().min(1).optional(),
  lr_scheduler_type: z.enum(["linear", "cosine", "constant"]).default("linear"),
  /** Floor of the decayed learning rate as a fraction of the peak. */
  min_lr_ratio: z.number().min(0).max(1).default(0),
  /** Longest dialogue in tokens; default the model's max_position_embeddings (≤ 2048). */
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
  /** Eval file (HIS JSON); default `<data>/test.json` when the data folder has one. */
  eval_data: z.string().min(1).optional(),
  /** Without an eval file: fraction of train held out (seeded); 0 = no eval. */
  eval_split: z.number().min(0).lt(1).default(0.1),
  /** Eval every N steps (and always at the end); 0 = end only. */
  eval_every: z.number().int().min(0).default(0),
  /** Also measure the eval loss before the first step (reported as `initial_eval_loss`). */
  eval_at_start: z.boolean().default(true),
  /** At most this many eval dialogues (0 = all), taken in file order. */
  max_eval_examples: z.number().int().min(0).default(0),
  /** Checkpoint every N steps (and at the end). */
  save_every: z.number().int().min(0).default(0),
  /** Keep only the newest N checkpoints (0 = all). */
  save_total_limit: z.number().int().min(0).default(0),
  /** Continue from `<out>/checkpoints/latest.json` when present. */
  resume: z.boolean().default(true),
  /** Skip (and count) over-long dialogues instead of failing. */
  skip_invalid: z.boolean().default(false),
  /** Length bucketing of micro-batches (HF `group_by_length`, on in the released trainer). */
  group_by_length: z.boolean().default(true),
  /** Start from the weights of a saved hirpf adapter (its config must match this one). */
  init_from: z.string().min(1).optional(),
  /** onnxruntime intra-op threads (default: one per core). */
  threads: z.number().int().min(1).optional(),
}).strict().superRefine((c, ctx) => {
  if (c.batch_size % c.micro_batch_size !== 0) {
    ctx.addIssue({
      code: "custom",
      path: ["batch_size"],
      message:
        `batch_size ${c.batch_size} is not a multiple of micro_batch_size ${c.micro_batch_size}; ` +
        `pick batch_size = k · micro_batch_size`,
    });
  }
});

/** A parsed {@link HirpfTrainConfigSchema} object. */
export type HirpfTrainConfig = z.infer<typeof HirpfTrainConfigSchema>;

/**
 * Validates a raw trainer config over the plugin's options (the options are the defaults, the
 * config wins). A bad field is a `RangeError` tagged `E_CONFIG` naming the field, its value and
 * the reason.
 *
 * @example
 * ```ts
 * import { parseHirpfTrainConfig } from "./train_config.ts";
 * parseHirpfTrainConfig({ steps: 30, batch_size: 8, micro_batch_size: 4 }).steps; // 30
 * // parseHirpfTrainConfig({ step: 30 }) → RangeError: hirpf trainer config field "step" … unknown field
 * ```
 */
export function parseHirpfTrainConfig(
  raw: unknown,
  defaults: Partial<HirpfOptions> = {},
): HirpfTrainConfig {
  const base: Record<string, unknown> = { ...defaults };
  // Plugin-only fields are not trainer fields.
  delete base.progress;
  delete base.runner;
  const merged = typeof raw === "object" && raw !== null && !Array.isArray(raw)
    ? { ...base, ...(raw as Record<string, unknown>) }
    : raw ?? base;
  const result = HirpfTrainConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  const { path, value, reason } = describeZodIssue(
    result.error,
    merged,
    (at) => at.length ? undefined : Object.keys(HirpfTrainConfigSchema.shape),
  );
  throw withCode(
    new RangeError(
      `hirpf trainer config field "${path || "(config)"}" is ${
        value === undefined ? "missing" : JSON.stringify(value)
      }: ${reason}`,
    ),
    "E_CONFIG",
  );
}
