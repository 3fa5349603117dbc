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
import { TrainingFieldsSchema } from "../../core/services/training_driver.ts";
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
  // The shared training fields (core/services/training_driver.ts). Here `eval_data` defaults
  // to `<data>/test.json` when the data folder has one, and `eval_split` applies without it.
  ...TrainingFieldsSchema.shape,
  /** At most this many eval dialogues (0 = all), taken in file order. */
  max_eval_examples: z.number().int().min(0).default(0),
  /** Start from the weights of a saved hirpf adapter (its config must match this one). */
  init_from: z.string().min(1).optional(),
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
