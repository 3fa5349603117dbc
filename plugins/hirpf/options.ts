/**
 * The options schema of the hirpf plugin, with the defaults recommended by spec A5 (the
 * configuration behind the paper's results rather than the released code's defaults).
 *
 * @module
 */

import { z } from "zod";
import { DEFAULT_PROFESSIONS, validateProfessions } from "./identities.ts";

/**
 * hirpf options. Defaults: alternate insertion, hard mask on, trainable gates, r = 16, alpha = 16,
 * dropout 0.05, lr 1e-4 with 100 warmup steps, effective batch 64, q/k/v/o targets.
 *
 * @example
 * ```ts
 * import { HirpfOptionsSchema } from "./options.ts";
 * const o = HirpfOptionsSchema.parse({});
 * console.log(o.insert_mode, o.r, o.lr); // alternate 16 0.0001
 * ```
 */
export const HirpfOptionsSchema = z.object({
  professions: z.array(z.string()).default([...DEFAULT_PROFESSIONS]).superRefine((p, ctx) => {
    try {
      validateProfessions(p);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  }),
  insert_mode: z.enum(["flat", "alternate", "layered"]).default("alternate"),
  /** Hard identity mask (`sparse_adapter`); off means every expert of a group contributes. */
  sparse: z.boolean().default(true),
  train_gates: z.boolean().default(true),
  /**
   * How the hard mask enters the gate logits: `exclude` (default) gives inactive experts weight 0
   * whatever their gate; `multiply` is the spec formula `sigmoid(Gx+b)·(m ? 1 : −5e4)`, which
   * leaks an inactive expert whose gate logit is very negative.
   */
  mask_mode: z.enum(["exclude", "multiply"]).default("exclude"),
  r: z.number().int().min(1).default(16),
  alpha: z.number().positive().default(16),
  dropout: z.number().min(0).max(1).default(0.05),
  target_modules: z.array(z.enum(["q_proj", "k_proj", "v_proj", "o_proj"])).min(1)
    .default(["q_proj", "k_proj", "v_proj", "o_proj"]),
  lr: z.number().positive().default(1e-4),
  warmup_steps: z.number().int().min(0).default(100),
  batch_size: z.number().int().min(1).default(64),
  micro_batch_size: z.number().int().min(1).default(2),
  epochs: z.number().positive().default(1),
  /** Prepend the identity system prompt to the first user turn (spec A3). */
  system_prompt: z.boolean().default(true),
  seed: z.number().int().default(0),
});

/** Validated hirpf options. */
export type HirpfOptions = z.infer<typeof HirpfOptionsSchema>;
