/**
 * The built-in `hirpf` plugin (HIS / HIRPF identity experts, arXiv 2407.19412): the `hirpf`
 * adapter (fresh, or loaded from a checkpoint directory), the `hirpf` trainer
 * (`deno task train --plugin hirpf`), two judges (`hirpf_scale`: a 5-vote scale verdict;
 * `hirpf_identity`: slot-by-slot identity detection) and the commands `scale`, `profession` and
 * `situations`. Loaded by path through its default export, or listed as a built-in with the
 * {@link hirpf} factory.
 *
 * @module
 */

import { z } from "zod";
import type { Adapter } from "../../core/contracts/adapter.ts";
import type { Judge, JudgeContext, Verdict } from "../../core/contracts/judge.ts";
import type { Plugin } from "../../core/contracts/plugin.ts";
import type { RequestExtension } from "../../core/contracts/request_extension.ts";
import { withCode } from "../../core/errors.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { resolveModel } from "../../core/model/model_dir.ts";
import { IdentityAdapter } from "./adapter.ts";
import { adapterOptionsFromHirpf } from "./adapter_config.ts";
import { hirpfCommands } from "./commands/eval_commands.ts";
import { judgeInterview } from "./eval/interview.ts";
import { type EvalLine, SCALE_OPTIONS, type ScaleOption } from "./eval/prompts.ts";
import { type IdentityDict, IdentityGuessSchema, judgeIdentity } from "./eval/situational.ts";
import { type HirpfOptions, HirpfOptionsSchema } from "./options.ts";
import { createHirpfTrainer } from "./trainer.ts";

/**
 * Plugin options: the adapter / training defaults of spec A5 ({@link HirpfOptionsSchema}) plus the
 * trainer's progress bar and runner.
 *
 * @example
 * ```ts
 * import { HirpfPluginOptionsSchema } from "./plugin.ts";
 * const o = HirpfPluginOptionsSchema.parse({});
 * console.log(o.insert_mode, o.mask_mode, o.runner); // alternate exclude worker
 * ```
 */
export const HirpfPluginOptionsSchema = HirpfOptionsSchema.extend({
  /** Progress bar of the trainer on stderr; default: when stderr is a terminal. */
  progress: z.boolean().optional(),
  /** Graph execution of the trainer: `worker` (default) or `in-process`. */
  runner: z.enum(["worker", "in-process"]).default("worker"),
});

/** Parsed {@link HirpfPluginOptionsSchema}. */
export type HirpfPluginOptions = z.infer<typeof HirpfPluginOptionsSchema>;

/**
 * The adapter factory's config: `model` (directory or hub id) plus either `path` (a checkpoint
 * directory written by the trainer or `IdentityAdapter.save`) or option overrides for a fresh
 * adapter (snake_case, as the plugin options).
 *
 * @example
 * ```ts
 * import { HirpfAdapterFactorySchema } from "./plugin.ts";
 * console.log(HirpfAdapterFactorySchema.parse({ model: "./tiny", path: "./runs/his" }).path);
 * ```
 */
export const HirpfAdapterFactorySchema = z.object({
  model: z.string().min(1),
  path: z.string().min(1).optional(),
  /** Seed of a fresh adapter's initial weights. */
  seed: z.number().int().optional(),
}).passthrough();

function factoryError(path: string, message: string): RangeError {
  return withCode(
    new RangeError(
      `hirpf adapter config field "${path || "(config)"}": ${message}; ` +
        `pass {"model": "<dir>", "path": "<hirpf checkpoint dir>"} or {"model": "<dir>", "r": 8, …}`,
    ),
    "E_CONFIG",
  );
}

async function makeAdapter(
  defaults: HirpfOptions,
  raw: Record<string, unknown> = {},
): Promise<Adapter> {
  const parsed = HirpfAdapterFactorySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw factoryError(issue.path.join("."), issue.message);
  }
  const { model: modelId, path, seed, ...overrides } = parsed.data;
  const options = HirpfOptionsSchema.strict().safeParse({
    ...stripPluginOnly(defaults),
    ...overrides,
  });
  if (!options.success) {
    const issue = options.error.issues[0];
    const keys = (issue as { keys?: string[] }).keys;
    throw factoryError(keys?.[0] ?? issue.path.join("."), issue.message);
  }
  const { dir } = await resolveModel(modelId);
  const config = await readDecoderConfig(dir);
  if (path) return await IdentityAdapter.load(path, { model: config });
  return IdentityAdapter.create(config, {
    ...adapterOptionsFromHirpf(options.data, modelId),
    seed: seed ?? options.data.seed,
  });
}

function stripPluginOnly(o: HirpfOptions & { progress?: unknown; runner?: unknown }): HirpfOptions {
  const { progress: _p, runner: _r, ...rest } = o;
  return rest;
}

/** Input of the `hirpf_scale` judge: one interview and the statement it probed. */
export interface ScaleJudgeInput {
  transcript: EvalLine[];
  statement: string;
}

/** Verdict of the `hirpf_scale` judge. */
export const ScaleJudgeVerdictSchema = z.object({
  option: z.enum(SCALE_OPTIONS),
  votes: z.array(z.enum(SCALE_OPTIONS).nullable()),
});

/** A parsed {@link ScaleJudgeVerdictSchema} value. */
export type ScaleJudgeVerdict = { option: ScaleOption; votes: (ScaleOption | null)[] };

/**
 * The `hirpf_scale` judge: 5 votes (temperature 0.5, distinct seeds, capped retries) on how
 * accurately a statement describes the interviewee, merged by majority. No parseable vote is a
 * `null` verdict with the reasons.
 *
 * @example
 * ```ts ignore
 * import { scaleJudge } from "./plugin.ts";
 * const v = await scaleJudge().judge({ transcript: [], statement: "I am the life of the party" },
 *   { model: judgeModel, seed: 1 });
 * ```
 */
export function scaleJudge(
  options: { votes?: number; maxRetries?: number; jsonSchema?: boolean } = {},
): Judge<ScaleJudgeInput, ScaleJudgeVerdict> {
  return {
    name: "hirpf_scale",
    schema: ScaleJudgeVerdictSchema as z.ZodType<ScaleJudgeVerdict>,
    async judge(input: ScaleJudgeInput, ctx: JudgeContext): Promise<Verdict<ScaleJudgeVerdict>> {
      if (!ctx.model) return { value: null, reason: "the hirpf_scale judge needs a model" };
      if (!input?.statement || !Array.isArray(input.transcript)) {
        return { value: null, reason: "input needs {transcript: EvalLine[], statement: string}" };
      }
      const j = await judgeInterview(ctx.model, input.transcript, input.statement, {
        ...options,
        seed: ctx.seed ?? 0,
        signal: ctx.signal,
      });
      if (j.option === null) {
        return { value: null, reason: `no vote parsed: ${j.reasons.join("; ")}` };
      }
      return { value: { option: j.option, votes: j.votes } };
    },
  };
}

/** Input of the `hirpf_identity` judge: a situational dialogue and its scenario. */
export interface IdentityJudgeInput {
  scenario: string;
  transcript: EvalLine[];
}

/**
 * The `hirpf_identity` judge: guesses the identity behind a dialogue as a slot dictionary (five
 * factors high/low/null and the profession).
 *
 * @example
 * ```ts ignore
 * import { identityJudge } from "./plugin.ts";
 * const v = await identityJudge().judge({ scenario: "At a party.", transcript: [] }, { model });
 * console.log(v.value?.EXT);
 * ```
 */
export function identityJudge(
  options: { professions?: readonly string[]; maxRetries?: number; jsonSchema?: boolean } = {},
): Judge<IdentityJudgeInput, IdentityDict> {
  return {
    name: "hirpf_identity",
    schema: IdentityGuessSchema as unknown as z.ZodType<IdentityDict>,
    async judge(input: IdentityJudgeInput, ctx: JudgeContext): Promise<Verdict<IdentityDict>> {
      if (!ctx.model) return { value: null, reason: "the hirpf_identity judge needs a model" };
      if (typeof input?.scenario !== "string" || !Array.isArray(input.transcript)) {
        return { value: null, reason: "input needs {scenario: string, transcript: EvalLine[]}" };
      }
      return await judgeIdentity(ctx.model, input.scenario, input.transcript, {
        ...options,
        seed: ctx.seed ?? 0,
        signal: ctx.signal,
      });
    },
  };
}

/**
 * The `identities` request extension: the identity experts a reply wears, e.g.
 * `["EXT_high", "Doctor"]`. The identity adapter reads it (its masks, per batch row); a model
 * without one refuses it.
 *
 * @example
 * ```ts
 * import { IDENTITIES_EXTENSION } from "./plugin.ts";
 * console.log(IDENTITIES_EXTENSION.schema.safeParse(["EXT_high"]).success); // true
 * ```
 */
export const IDENTITIES_EXTENSION: RequestExtension<string[]> = {
  name: "identities",
  description: 'identity experts active for this request (hirpf), e.g. ["EXT_high", "Doctor"]',
  schema: z.array(z.string().min(1)),
  appliesTo: "adapter",
};

/**
 * Makes the `hirpf` plugin.
 *
 * @example
 * ```ts
 * import { hirpf } from "./plugin.ts";
 * const plugin = hirpf();
 * const roles = await plugin.create(plugin.options.parse({ progress: false }));
 * console.log(Object.keys(roles.trainers!), Object.keys(roles.judges!)); // ["hirpf"] ["hirpf_scale", "hirpf_identity"]
 * // const adapter = await roles.adapters!.hirpf({ model: "./tiny", path: "./runs/his" });
 * ```
 */
export function hirpf(): Plugin<HirpfPluginOptions> {
  return {
    name: "hirpf",
    version: "0.1.0",
    description: "Identity experts (HIS / HIRPF): one LoRA expert per Big-Five polarity and " +
      "profession, hard identity masks and gated routers; trainer, scale and situational evaluation",
    options: HirpfPluginOptionsSchema,
    provides: ["adapter", "trainer", "judge"],
    create: (options) => ({
      adapters: { hirpf: (config) => makeAdapter(options, config) },
      trainers: {
        hirpf: createHirpfTrainer({
          defaults: stripPluginOnly(options),
          progress: options.progress,
          runner: options.runner,
        }),
      },
      judges: {
        hirpf_scale: scaleJudge(),
        hirpf_identity: identityJudge({ professions: options.professions }),
      },
    }),
    commands: hirpfCommands(),
    requestExtensions: [IDENTITIES_EXTENSION],
  };
}

/** The plugin, for loading by path (`--plugin ./plugins/hirpf/plugin.ts`). */
export default hirpf();
