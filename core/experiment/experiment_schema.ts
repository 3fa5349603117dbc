/**
 * The experiment file schema: a name and seed, plugin options, models, personas, datasets and an
 * ordered list of steps that call plugin roles. Step `with` blocks are free-form here; each step
 * kind validates its own `with` (see `step_executor.ts` and `executors/`).
 *
 * ```json
 * {
 *   "name": "ada-study", "seed": 1,
 *   "plugins": { "lexicon_judge": { "window": 2 } },
 *   "models": {
 *     "base": { "kind": "local", "path": "./models/tiny" },
 *     "gpt": { "kind": "openai", "base_url": "http://localhost:8000/v1", "model": "m", "api_key_env": "KEY" },
 *     "ada": { "kind": "persona", "persona": "ada" }
 *   },
 *   "personas": { "ada": "./personas/ada.json" },
 *   "datasets": { "goals": "./data/goals.jsonl" },
 *   "steps": [
 *     { "id": "talk", "kind": "simulate", "plugin": "roleplay",
 *       "with": { "inputs": "goals", "models": { "user": "gpt", "assistant": "ada" } } },
 *     { "id": "valence", "kind": "judge", "plugin": "lexicon_judge", "role": "valence",
 *       "with": { "inputs": { "step": "talk" } } }
 *   ]
 * }
 * ```
 *
 * Kinds: `train` (a trainer's `train()`), `simulate` (a simulator over a source's items),
 * `judge` (a judge over a source's items), `steer` (a layer × coefficient sweep with the
 * ChatModel `steering` field, scored by the step plugin's judge), `extract` and `custom` (a
 * plugin command). Strings in `with` may use `{{artifacts.<step>}}`, `{{datasets.<id>}}` and
 * `{{run_dir}}`.
 *
 * @module
 */

import { z } from "zod";
import { PLUGIN_NAME_RULE } from "../contracts/plugin.ts";
import { PersonaSchema } from "../contracts/persona.ts";

/** Identifier rule for experiment names, step ids, model, persona and dataset ids. */
export const ID_RULE: RegExp = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const Id = z.string().regex(ID_RULE, "use letters, digits, '_', '.' or '-', starting alphanumeric");

/** The step kinds; each has one executor in the executor table. */
export const STEP_KINDS = ["train", "extract", "steer", "simulate", "judge", "custom"] as const;
/** One step kind. */
export type StepKind = typeof STEP_KINDS[number];

/** A model the experiment's steps talk to, built by the host's ChatModel factory. */
export const ModelSpecSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("local"),
    /** Model directory or hub id. */
    path: z.string().min(1),
    /** Extra settings passed to the factory (execution provider, dtype, …). */
    options: z.record(z.string(), z.unknown()).default({}),
  }).strict(),
  z.object({
    kind: z.literal("openai"),
    base_url: z.url(),
    model: z.string().min(1),
    /** The name of the environment variable holding the key (never the key itself). */
    api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")
      .optional(),
    options: z.record(z.string(), z.unknown()).default({}),
  }).strict(),
  z.object({
    kind: z.literal("persona"),
    /** A key of the experiment's `personas`. */
    persona: Id,
  }).strict(),
]);
/** A model entry. */
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

/** One step of an experiment. */
export const StepSchema = z.object({
  id: Id,
  kind: z.enum(STEP_KINDS),
  plugin: z.string().regex(PLUGIN_NAME_RULE, "a plugin name (lower-case, digits, '_')"),
  /** The role instance name within the plugin; optional when the plugin has exactly one. */
  role: z.string().min(1).optional(),
  /** Earlier steps this one waits for (references inside `with` are added automatically). */
  needs: z.array(Id).default([]),
  with: z.record(z.string(), z.unknown()).default({}),
  /** Work items of a fan-out step run this many at a time. */
  concurrency: z.number().int().min(1).max(1024).default(1),
}).strict();
/** A parsed step. */
export type StepSpec = z.infer<typeof StepSchema>;

/** A step's per-item metric, named for the report. */
const MetricRef = z.object({
  step: Id,
  metric: z.string().min(1),
  label: z.string().min(1).optional(),
}).strict();

/**
 * What the report compares beyond what it finds by itself: `sweeps` names the sweep metrics whose
 * dose–response it draws, `agreement` pairs judges' scores
 * with a reference score on the same items (matched by item index), e.g. a lexicon judge and an
 * LLM judge against a ground-truth labeller run by a steering sweep.
 */
export const ReportSpecSchema = z.object({
  /** Sweep metrics drawn as dose–response curves (default: metrics named `score`). */
  sweeps: z.array(MetricRef).default([]),
  agreement: z.array(z.object({ truth: MetricRef, judges: z.array(MetricRef).min(1) }).strict())
    .default([]),
}).strict();
/** The parsed `report` block. */
export type ReportSpec = z.infer<typeof ReportSpecSchema>;

/** The experiment file. */
export const ExperimentSchema = z.object({
  name: Id,
  description: z.string().default(""),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  /** Options per plugin, validated with each plugin's own schema. */
  plugins: z.record(z.string(), z.unknown()).default({}),
  models: z.record(Id, ModelSpecSchema).default({}),
  /** Persona objects, or paths to persona JSON files (relative to the experiment file). */
  personas: z.record(Id, z.union([z.string().min(1), PersonaSchema])).default({}),
  /** Dataset files or directories (relative to the experiment file). */
  datasets: z.record(Id, z.string().min(1)).default({}),
  steps: z.array(StepSchema).min(1, "an experiment needs at least one step"),
  /** Comparisons the report draws (see {@link ReportSpecSchema}). */
  report: ReportSpecSchema.optional(),
}).strict();

/**
 * A parsed experiment (defaults applied).
 *
 * @example
 * ```ts
 * import { ExperimentSchema } from "./experiment_schema.ts";
 * const e = ExperimentSchema.parse({
 *   name: "demo",
 *   steps: [{ id: "score", kind: "judge", plugin: "lexicon_judge", with: { inputs: { items: ["hi"] } } }],
 * });
 * console.log(e.seed, e.steps[0].needs); // 0 []
 * ```
 */
export type Experiment = z.infer<typeof ExperimentSchema>;
