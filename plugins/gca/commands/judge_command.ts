/**
 * `dramatis gca judge`: scores a simulation file with the four-dimension critic and writes
 * CoSER's evaluation file, with the judge model pinned in its metadata and null verdicts counted.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { createGcaJudge } from "../judge.ts";
import { type EvaluationFile, judgeSimulations } from "../judge_simulations.ts";
import { MODEL_REF_SYNTAX as MODEL_SYNTAX } from "../../../core/services/model_ref.ts";
import { ModelResolver } from "../../../core/services/model_resolver.ts";
import type { GcaPluginOptions } from "../plugin_options.ts";
import { simulationsOf, validateSimulations } from "../simulate_records.ts";
import { intFlag, readJsonFile, stringFlag, writeJsonFile } from "./io.ts";

/**
 * Makes the `judge` command with the plugin's options as defaults.
 *
 * @example
 * ```ts
 * import { judgeCommand } from "./judge_command.ts";
 * import { GcaPluginOptionsSchema } from "../plugin_options.ts";
 * console.log(judgeCommand(GcaPluginOptionsSchema.parse({})).name); // "judge"
 * ```
 */
export function judgeCommand(defaults: GcaPluginOptions): PluginCommand {
  return {
    name: "judge",
    description: "Judge simulations (four flaw-based dimensions, BLEU, ROUGE-L); a case whose " +
      "critique stays invalid is a counted null verdict.",
    flags: {
      simulations: {
        type: "string",
        required: true,
        description: "simulation file (gca simulate output, or CoSER's exp/simulation JSON)",
      },
      judge: {
        type: "string",
        description: `critic <model>: ${MODEL_SYNTAX}; local models decode constrained JSON`,
        ...(defaults.judge ? { default: defaults.judge } : { required: true }),
      },
      pin: {
        type: "string",
        default: defaults.judgeModelPin,
        description: "the judge the scores are comparable with (recorded with a match flag)",
      },
      "max-tokens": {
        type: "number",
        default: defaults.judgeMaxTokens,
        description: "max_tokens per critic call",
      },
      "max-retries": {
        type: "number",
        default: defaults.judgeMaxRetries,
        description: "retries per dimension (temperature 1, with repair and feedback)",
      },
      "json-schema": {
        type: "boolean",
        default: defaults.judgeJsonSchema,
        description: "send response_format json_schema (--no-json-schema for APIs without it)",
      },
      seed: { type: "number", default: defaults.seed, description: "seed of the critic calls" },
      cache: { type: "string", default: defaults.cache, description: "SQLite response cache" },
      out: {
        type: "string",
        required: true,
        description: "evaluation file, rewritten after every case; an unfinished one there is " +
          "resumed (its judged cases are kept)",
      },
    },
    async run(args, ctx) {
      const c = "judge";
      const simPath = stringFlag(args, "simulations", c);
      const simulations = validateSimulations(
        simulationsOf(await readJsonFile(simPath, "--simulations"), simPath),
        simPath,
      );
      const out = stringFlag(args, "out", c);
      const previous = await Deno.stat(out).then((st) => st.isFile, () => false)
        ? await readJsonFile(out, "--out") as {
          complete?: boolean;
          cases?: EvaluationFile["cases"];
        }
        : undefined;
      const done = previous?.complete === false ? previous.cases : undefined;
      const resolver = new ModelResolver({
        hub: ctx.models,
        cachePath: stringFlag(args, "cache", c),
      });
      try {
        const model = await resolver.get(stringFlag(args, "judge", c));
        const judge = createGcaJudge({
          maxTokens: intFlag(args, "max-tokens", c, 2048, 1),
          maxRetries: intFlag(args, "max-retries", c, 5),
          jsonSchema: args.flags["json-schema"] !== false,
        });
        const evaluation = await judgeSimulations(simulations, {
          judge,
          model,
          pin: stringFlag(args, "pin", c),
          seed: intFlag(args, "seed", c, 42),
          done,
          onProgress: (partial) => writeJsonFile(out, { ...partial, complete: false }),
          signal: ctx.signal,
          log: ctx.log,
        });
        const cache = resolver.stats();
        await writeJsonFile(out, { ...evaluation, complete: true, cache });
        const m = evaluation.metadata;
        if (ctx.json) {
          console.log(JSON.stringify(
            { out, scores: evaluation.scores, metrics: evaluation.metrics, ...m, cache },
            null,
            2,
          ));
        } else {
          const fmt = (x: number | null | undefined, d = 1) => (x == null ? "null" : x.toFixed(d));
          const s = evaluation.scores;
          console.log(
            `judge ${m.judge_model} (${
              m.comparable ? "matches" : "differs from"
            } ${m.judge_model_pin})`,
          );
          console.log(
            `  Storyline Consistency ${fmt(s["Storyline Consistency"])}  Anthropomorphism ${
              fmt(s.Anthropomorphism)
            }  Character Fidelity ${fmt(s["Character Fidelity"])}  Storyline Quality ${
              fmt(s["Storyline Quality"])
            }  avg ${fmt(s.avg)}`,
          );
          console.log(
            `  BLEU ${fmt(evaluation.metrics.bleu, 4)}  ROUGE-L ${
              fmt(evaluation.metrics.rouge_l, 4)
            }` +
              `  (all ${m.cases} case(s))`,
          );
          console.log(
            `  null verdicts: ${m.null_verdicts} of ${m.cases}; cache: ${cache.hits} hit(s), ` +
              `${cache.misses} model call(s); written to ${out}`,
          );
        }
        return 0;
      } finally {
        resolver.close();
      }
    },
  };
}
