/**
 * The roleplay plugin's options schema (validated before anything runs).
 *
 * @module
 */

import { z } from "zod";
import type { RoleplaySimulatorOptions } from "./simulator.ts";

/**
 * Options of the roleplay plugin. Defaults follow the reference configuration.
 *
 * @example
 * ```ts
 * import { roleplayOptionsSchema } from "./options.ts";
 * const o = roleplayOptionsSchema.parse({ personas: { mode: "random", count: 5 } });
 * console.log(o.numTurns); // 12
 * ```
 */
export const roleplayOptionsSchema = z.object({
  numTurns: z.number().int().min(1).default(12),
  seed: z.number().int().default(5),
  personas: z.discriminatedUnion("mode", [
    z.object({ mode: z.literal("fixed") }),
    z.object({ mode: z.literal("random"), count: z.number().int().min(1).default(5) }),
  ]).default({ mode: "fixed" }),
  /** A goals JSONL file; the shipped 30 goals when absent. */
  goals: z.string().optional(),
  stopToken: z.string().min(1).default("FINISH"),
  inquirerMaxN: z.number().int().min(2).default(4),
  responderMaxN: z.number().int().min(2).default(5),
  nonCoherentR: z.number().int().min(1).default(2),
  promptIndex: z.number().int().min(0).default(0),
  regenerateTries: z.number().int().min(1).nullable().default(null),
  inquirerMaxTokens: z.number().int().min(1).default(1000),
  responderMaxTokens: z.number().int().min(1).default(4000),
  inquirerContextLength: z.number().int().min(1).default(8192),
  responderContextLength: z.number().int().min(1).optional(),
  inquirerHistory: z.enum(["prompt_and_extract", "extract"]).default("prompt_and_extract"),
  cutSelfReplies: z.boolean().default(false),
  /** Sampling temperature of each side (the model's default when absent). */
  inquirerTemperature: z.number().min(0).max(2).optional(),
  /**
   * A regex the inquirer's whole output must match, sent as Dramatis' `constraint` extra (local
   * models and this project's server honour it). Off by default; small local models need it to
   * produce a quoted prompt at all, e.g. `"[A-Za-z ,.?']{8,60}"`.
   */
  inquirerRegex: z.string().min(1).optional(),
  responderTemperature: z.number().min(0).max(2).optional(),
  /** Indistinguishability judge: retries after an unparsable verdict, and its `max_tokens`. */
  judgeMaxRetries: z.number().int().min(0).default(2),
  judgeMaxTokens: z.number().int().min(1).default(400),
});

/** Parsed roleplay options. */
export type RoleplayOptions = z.infer<typeof roleplayOptionsSchema>;

/**
 * The simulator settings carried by parsed plugin options (run-level fields such as `seed`,
 * `personas` and `goals` belong to the caller that plans the dialogues).
 *
 * @example
 * ```ts
 * import { roleplayOptionsSchema, simulatorOptionsFrom } from "./options.ts";
 * const s = simulatorOptionsFrom(roleplayOptionsSchema.parse({ numTurns: 3 }));
 * console.log(s.numTurns, s.stopToken); // 3 "FINISH"
 * ```
 */
export function simulatorOptionsFrom(options: RoleplayOptions): RoleplaySimulatorOptions {
  const out: RoleplaySimulatorOptions = {
    numTurns: options.numTurns,
    stopToken: options.stopToken,
    inquirerMaxN: options.inquirerMaxN,
    responderMaxN: options.responderMaxN,
    nonCoherentR: options.nonCoherentR,
    promptIndex: options.promptIndex,
    regenerateTries: options.regenerateTries,
    inquirerMaxTokens: options.inquirerMaxTokens,
    responderMaxTokens: options.responderMaxTokens,
    inquirerContextLength: options.inquirerContextLength,
    inquirerHistory: options.inquirerHistory,
    cutSelfReplies: options.cutSelfReplies,
  };
  if (options.responderContextLength !== undefined) {
    out.responderContextLength = options.responderContextLength;
  }
  if (options.inquirerTemperature !== undefined) {
    out.inquirerSampling = { temperature: options.inquirerTemperature };
  }
  if (options.inquirerRegex !== undefined) out.inquirerRegex = options.inquirerRegex;
  if (options.responderTemperature !== undefined) {
    out.responderSampling = { temperature: options.responderTemperature };
  }
  return out;
}
