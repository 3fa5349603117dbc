/**
 * The gca Plugin object: CoSER given-circumstance acting as a simulator (`gca`) and a judge
 * (`gca`) for experiments, and the commands `simulate`, `judge`, `build-dataset` and `transform`.
 * Loaded by path (`--plugin ./plugins/gca/plugin.ts`) through its default export, or listed as a
 * built-in with the {@link gca} factory.
 *
 * @module
 */

import type { Judge, JudgeContext, Verdict } from "../../core/contracts/judge.ts";
import type { Plugin } from "../../core/contracts/plugin.ts";
import type { SimulationContext, Simulator, Transcript } from "../../core/contracts/simulator.ts";
import { buildDatasetCommand } from "./commands/build_dataset_command.ts";
import { chatCommand, personaCommand } from "./commands/chat_command.ts";
import { judgeCommand } from "./commands/judge_command.ts";
import { readJsonFile } from "./commands/io.ts";
import { simulateCommand } from "./commands/simulate_command.ts";
import { transformCommand } from "./commands/transform_command.ts";
import type { ModelHub } from "../../core/services/model_hub.ts";
import { embeddingsFor } from "./embeddings.ts";
import {
  createGcaJudge,
  type GcaCaseScore,
  GcaCaseScoreSchema,
  type GcaJudgeInput,
  judgeInputFromTranscript,
} from "./judge.ts";
import { matchesPin } from "./judge_simulations.ts";
import { DIMENSIONS } from "./judge_prompt.ts";
import {
  type GcaPluginOptions,
  GcaPluginOptionsSchema,
  simulationOptionsOf,
} from "./plugin_options.ts";
import { type Book, parseBook } from "./schemas.ts";
import { createGcaSimulator, type GcaSimulationInput } from "./simulator.ts";

/** A verdict value of the plugin's judge: the case score plus flat metrics and the judge pin. */
export type GcaPluginVerdict = GcaCaseScore & {
  storyline_consistency: number;
  anthropomorphism: number;
  character_fidelity: number;
  storyline_quality: number;
  judge_model: string;
  /** True when the judge model matches `judgeModelPin`. */
  comparable: boolean;
};

function isRecordWrapper(x: unknown): x is GcaSimulationInput {
  return typeof x === "object" && x !== null && "record" in x;
}

/**
 * The simulator the plugin provides: accepts a raw test record (an experiment dataset item) or
 * `{record, options, book}`; plugin options are the defaults, the item's `options` win.
 *
 * @example
 * ```ts ignore
 * import { pluginSimulator } from "./plugin.ts";
 * import { GcaPluginOptionsSchema } from "./plugin_options.ts";
 * const sim = pluginSimulator(GcaPluginOptionsSchema.parse({ maxRounds: 6 }), models);
 * ```
 */
export function pluginSimulator(options: GcaPluginOptions, models: ModelHub): Simulator<unknown> {
  let book: Promise<Book | undefined> | undefined;
  const loadBook = () =>
    book ??= options.book
      ? readJsonFile(options.book, "gca option book").then((b) => parseBook(b, options.book))
      : Promise.resolve(undefined);
  const embed = options.retrieval && options.embeddings
    ? embeddingsFor(options.embeddings, { cachePath: options.cache, models })
    : undefined;
  const inner = createGcaSimulator({ embed });
  const defaults = simulationOptionsOf(options);
  return {
    name: "gca",
    roles: inner.roles,
    async simulate(input: unknown, context: SimulationContext): Promise<Transcript> {
      const wrapped = isRecordWrapper(input) ? input : { record: input };
      return await inner.simulate({
        record: wrapped.record,
        options: { ...defaults, ...wrapped.options },
        book: wrapped.book ?? (options.retrieval ? await loadBook() : undefined),
      }, { ...context, seed: context.seed ?? options.seed });
    },
  };
}

/** Turns a transcript, a simulation record or judge input into judge input. */
export function toJudgeInput(input: unknown): GcaJudgeInput {
  const x = input as Record<string, unknown>;
  if (x && typeof x === "object" && Array.isArray(x.turns) && x.metadata) {
    return judgeInputFromTranscript(input as Transcript);
  }
  if (x && typeof x === "object" && Array.isArray(x.simulation) && x.circumstance) {
    const o = x.options as { continueFrom?: number } | undefined;
    return {
      record: x.circumstance,
      simulation: x.simulation as GcaJudgeInput["simulation"],
      profiles: x.involved_character_profiles as Record<string, string> | undefined,
      continueFrom: o?.continueFrom ?? 0,
    };
  }
  if (x && typeof x === "object" && Array.isArray(x.simulation) && "record" in x) {
    return input as GcaJudgeInput;
  }
  throw new TypeError(
    "gca judge input is neither a gca transcript, a simulation record nor {record, simulation}; " +
      "feed it the outputs of a gca simulate step",
  );
}

/**
 * The judge the plugin provides: the four-dimension critic over `context.model`, with flat
 * dimension scores (for experiment metrics) and the judge model recorded in every verdict.
 *
 * @example
 * ```ts ignore
 * import { pluginJudge } from "./plugin.ts";
 * import { GcaPluginOptionsSchema } from "./plugin_options.ts";
 * const judge = pluginJudge(GcaPluginOptionsSchema.parse({ judgeMaxRetries: 1 }));
 * ```
 */
export function pluginJudge(options: GcaPluginOptions): Judge<unknown, GcaPluginVerdict> {
  const inner = createGcaJudge({
    maxRetries: options.judgeMaxRetries,
    maxTokens: options.judgeMaxTokens,
    jsonSchema: options.judgeJsonSchema,
  });
  return {
    name: "gca",
    schema: GcaCaseScoreSchema as unknown as Judge<unknown, GcaPluginVerdict>["schema"],
    async judge(input: unknown, context: JudgeContext): Promise<Verdict<GcaPluginVerdict>> {
      const v = await inner.judge(toJudgeInput(input), context);
      if (v.value === null) return v;
      const judgeModel = context.model?.id ?? "";
      const d = v.value.dimensions;
      return {
        ...v,
        value: {
          ...v.value,
          storyline_consistency: d[DIMENSIONS[0]].score,
          anthropomorphism: d[DIMENSIONS[1]].score,
          character_fidelity: d[DIMENSIONS[2]].score,
          storyline_quality: d[DIMENSIONS[3]].score,
          judge_model: judgeModel,
          comparable: matchesPin(judgeModel, options.judgeModelPin),
        },
      };
    },
  };
}

/**
 * Makes the gca plugin. `defaults` become the defaults of the commands' flags (experiments pass
 * their options through `create`).
 *
 * @example
 * ```ts
 * import { gca } from "./plugin.ts";
 * const plugin = gca();
 * console.log(plugin.name, plugin.provides, plugin.commands!.map((c) => c.name));
 * // gca ["simulator", "judge"] ["simulate", "judge", "build-dataset", "transform"]
 * ```
 */
export function gca(defaults: Partial<GcaPluginOptions> = {}): Plugin<GcaPluginOptions> {
  const commandDefaults = GcaPluginOptionsSchema.parse(defaults);
  return {
    name: "gca",
    version: "0.1.0",
    description: "CoSER given-circumstance acting: multi-character scene simulation, " +
      "flaw-based judge, BLEU / ROUGE-L, book-to-dataset pipeline (arXiv 2502.09082).",
    options: GcaPluginOptionsSchema,
    provides: ["simulator", "judge"],
    create(options, context) {
      return {
        simulators: { gca: pluginSimulator(options, context.models) },
        judges: { gca: pluginJudge(options) },
      };
    },
    commands: [
      simulateCommand(commandDefaults),
      judgeCommand(commandDefaults),
      buildDatasetCommand(commandDefaults),
      transformCommand(),
      chatCommand,
      personaCommand,
    ],
  };
}

const plugin: Plugin<GcaPluginOptions> = gca();

export default plugin;
