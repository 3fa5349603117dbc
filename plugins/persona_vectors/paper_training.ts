/**
 * The finetuning configuration of the persona-vectors paper (spec B7), used as the default of
 * preventative steering (`train-preventative`, the `preventative` trainer) and of the multi-persona
 * finetuning runs. Every field is a `lora` trainer config field and can be overridden.
 *
 * @module
 */

/** The seven linear projections of a Llama/Qwen block that the paper adapts. */
export const PAPER_TARGET_MODULES: readonly string[] = Object.freeze([
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "gate_proj",
  "up_proj",
  "down_proj",
]);

/**
 * The paper's LoRA training configuration in `lora` trainer field names: r 32, α 64, rsLoRA
 * (scaling α/√r ≈ 11.31), dropout 0 on all seven projections; lr 1e-5, linear schedule with 5
 * warmup steps, weight decay 0.01, batch 2 × accumulation 8 (16 per step), one epoch, seed 0.
 *
 * @example
 * ```ts
 * import { PAPER_TRAINING_CONFIG } from "./paper_training.ts";
 * console.log(PAPER_TRAINING_CONFIG.r, PAPER_TRAINING_CONFIG.lora_alpha); // 32 64
 * ```
 */
export const PAPER_TRAINING_CONFIG = Object.freeze({
  r: 32,
  lora_alpha: 64,
  lora_dropout: 0,
  use_rslora: true,
  target_modules: [...PAPER_TARGET_MODULES],
  learning_rate: 1e-5,
  lr_scheduler_type: "linear" as const,
  warmup_steps: 5,
  weight_decay: 0.01,
  batch_size: 2,
  gradient_accumulation_steps: 8,
  epochs: 1,
  seed: 0,
});

/**
 * `PAPER_TRAINING_CONFIG` under a user config: fields the user sets win, the rest keep the paper's
 * values (`target_modules` is copied so callers may mutate the result).
 *
 * @example
 * ```ts
 * import { withPaperDefaults } from "./paper_training.ts";
 * withPaperDefaults({ r: 8 }).r; // 8
 * withPaperDefaults({}).use_rslora; // true
 * ```
 */
export function withPaperDefaults(config: Record<string, unknown>): Record<string, unknown> {
  return {
    ...PAPER_TRAINING_CONFIG,
    target_modules: [...PAPER_TARGET_MODULES],
    ...config,
  };
}
