/**
 * The options schema of the persona_vectors plugin, with the defaults of spec B10.
 *
 * @module
 */

import { z } from "zod";

/**
 * persona_vectors options.
 *
 * @example
 * ```ts
 * import { PersonaVectorsOptionsSchema } from "./options.ts";
 * const o = PersonaVectorsOptionsSchema.parse({});
 * console.log(o.layer, o.coefficient, o.positions, o.vector_type); // 20 2 response response_avg
 * ```
 */
export const PersonaVectorsOptionsSchema = z.object({
  /** Hugging Face hidden-state index used for steering and projection (1..numLayers). */
  layer: z.number().int().min(1).default(20),
  coefficient: z.number().default(2.0),
  positions: z.enum(["all", "prompt", "response"]).default("response"),
  vector_type: z.enum(["prompt_avg", "response_avg", "prompt_last"]).default("response_avg"),
  /** Rollouts per question and instruction. */
  n_per_question: z.number().int().min(1).default(10),
  max_new_tokens: z.number().int().min(1).default(1000),
  trait_threshold: z.number().min(0).max(100).default(50),
  coherence_threshold: z.number().min(0).max(100).default(50),
  judge_mode: z.enum(["0_100", "0_10", "binary", "binary_text"]).default("0_100"),
  judge_top_logprobs: z.number().int().min(1).max(20).default(20),
  /** Numeric mass floor of the logprob judges (B3: 0.25; lower only for tiny test models). */
  judge_min_mass: z.number().min(0).max(1).default(0.25),
  /** The trait of the plugin's `trait` judge: a shipped name or an artifact path. */
  trait: z.string().min(1).default("optimistic"),
  /** Preventative steering during finetuning (spec B8). */
  preventative: z.object({
    type: z.enum(["steer", "ablate"]).default("steer"),
    coefficient: z.number().default(5.0),
    layers: z.array(z.number().int().min(1)).min(1).default([20]),
  }).default({ type: "steer", coefficient: 5.0, layers: [20] }),
  /** Cosine classification thresholds (spec B9). */
  orthogonal_below: z.number().min(0).max(1).default(0.3),
  opposite_below: z.number().min(-1).max(0).default(-0.5),
  seed: z.number().int().default(0),
});

/** Validated persona_vectors options. */
export type PersonaVectorsOptions = z.infer<typeof PersonaVectorsOptionsSchema>;
