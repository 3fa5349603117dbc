/**
 * The gca plugin's options: model defaults for the commands, simulation settings (CoSER §1.4–1.5)
 * and judge settings (§1.6). Experiments set them under `plugins.gca`; the commands' flags
 * override them per run.
 *
 * @module
 */

import { z } from "zod";
import { RETRIEVAL_VARIANTS } from "./retrieval.ts";
import type { GcaSimulationOptions } from "./simulator.ts";

/** The judge model CoSER's numbers are comparable with. */
export const PINNED_JUDGE = "gpt-4o-2024-08-06";

/** Options of the gca plugin. */
export const GcaPluginOptionsSchema = z.object({
  actor: z.string().optional().describe("default actor <model> of the simulate command"),
  env: z.string().default("openai:gpt-4o").describe(
    "environment <model> (CoSER default gpt-4o)",
  ),
  nsp: z.string().default("openai:gpt-4o-mini").describe(
    "next-speaker <model> (CoSER default gpt-4o-mini)",
  ),
  judge: z.string().optional().describe("default judge <model> of the judge command"),
  judgeModelPin: z.string().default(PINNED_JUDGE).describe(
    "the judge model the scores are comparable with; verdicts record whether the judge matches",
  ),
  retrieval: z.enum(Object.keys(RETRIEVAL_VARIANTS) as [string, ...string[]]).nullable()
    .default(null).describe("retrieval variant (needs book and embeddings)"),
  book: z.string().optional().describe("book JSON file for retrieval"),
  embeddings: z.string().optional().describe(
    "embeddings source for retrieval: openai:<name>, http(s)://…/v1#<name> or local:<dir>",
  ),
  leakageFilter: z.boolean().default(true).describe(
    "leave the test plot and held-out plots out of retrieval corpora",
  ),
  woThought: z.boolean().default(false).describe("actors speak and act without [thoughts]"),
  continueFrom: z.number().int().min(0).default(0).describe(
    "replay the first k utterances from the original dialogue",
  ),
  maxRounds: z.number().int().min(1).max(200).default(20).describe(
    "most utterances per scene (paper 20; tests use fewer)",
  ),
  minRoundsBeforeEnd: z.number().int().min(0).default(5).describe(
    "<END CHAT> is honoured only from this 0-based round",
  ),
  wordLimit: z.number().int().min(1).default(60).describe("actor word limit"),
  nth: z.number().int().min(0).default(0).describe("repeat index of a single run"),
  runs: z.number().int().min(1).max(100).default(1).describe(
    "repeated runs per record (nth = 0..runs-1)",
  ),
  seed: z.number().int().min(0).default(42).describe("base seed (per-record seeds derive from it)"),
  maxTokens: z.number().int().min(1).default(512).describe("max_tokens per simulation call"),
  maxRetries: z.number().int().min(0).default(2).describe(
    "retries of a failed or empty simulation call (temperature 1)",
  ),
  nspFormat: z.enum(["reasoned", "name_only"]).default("reasoned").describe(
    "NSP answer format",
  ),
  actorStyle: z.enum(["auto", "coser", "generic"]).default("auto").describe(
    "actor requirements style",
  ),
  judgeMaxTokens: z.number().int().min(1).default(2048).describe("max_tokens per judge call"),
  judgeMaxRetries: z.number().int().min(0).default(5).describe("judge retries per dimension"),
  judgeJsonSchema: z.boolean().default(true).describe(
    "send response_format json_schema to the judge (local judges decode constrained JSON)",
  ),
  cache: z.string().default(".cache/gca.sqlite").describe(
    "SQLite response cache of every model call",
  ),
}).strict();

/** Parsed plugin options. */
export type GcaPluginOptions = z.infer<typeof GcaPluginOptionsSchema>;

/**
 * The simulator options implied by plugin options.
 *
 * @example
 * ```ts
 * import { GcaPluginOptionsSchema, simulationOptionsOf } from "./plugin_options.ts";
 * simulationOptionsOf(GcaPluginOptionsSchema.parse({ maxRounds: 4 })).maxRounds; // 4
 * ```
 */
export function simulationOptionsOf(
  o: GcaPluginOptions,
): Omit<GcaSimulationOptions, "actorModelName"> {
  return {
    maxRounds: o.maxRounds,
    minRoundsBeforeEnd: o.minRoundsBeforeEnd,
    wordLimit: o.wordLimit,
    woThought: o.woThought,
    continueFrom: o.continueFrom,
    nth: o.nth,
    maxTokens: o.maxTokens,
    maxRetries: o.maxRetries,
    nspFormat: o.nspFormat,
    actorStyle: o.actorStyle,
    retrieval: o.retrieval,
    leakageFilter: o.leakageFilter,
  };
}
