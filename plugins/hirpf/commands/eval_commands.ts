/**
 * `deno task dramatis hirpf <scale|profession|situations>`: the spec A7 evaluations of an agent
 * (any `<model>`, optionally with a trained hirpf adapter) against an interviewer / NPC and a judge
 * model. Every model call goes through a ChatModel behind one SQLite response cache, so a rerun
 * makes no model call. Results go to `--out` (JSON) and a summary to stdout (`--json` for
 * machines).
 *
 * @module
 */

import { dirname } from "node:path";
import type { FlagSpec, ParsedArgs, PluginCommand } from "../../../core/contracts/plugin.ts";
import { withCode } from "../../../core/errors.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { Prng } from "../../../core/util/prng.ts";
import { BF_MARKER_100, PROFESSION_SCALE, SITUATIONAL_TESTS } from "../eval/items.ts";
import { runBigFiveScale, runProfessionScale, type ScaleRunResult } from "../eval/scale_eval.ts";
import {
  HIS_FACTOR_CODES,
  loadProfessionScale,
  loadSituationalTests,
} from "../eval/his_benchmark.ts";
import {
  accuracyByIdentityCount,
  allIdentityCombinations,
  judgeIdentity,
  runSituationalDialogue,
  type SituationalOutcome,
} from "../eval/situational.ts";
import { sanitizeIdentities } from "../sanitize.ts";
import type { HirpfOptions } from "../options.ts";
import { HirpfModels, MODEL_SYNTAX } from "./models.ts";
import { humanEvalSetCommand } from "./human_eval_command.ts";

function usage(message: string): TypeError {
  return withCode(new TypeError(message), "E_USAGE");
}

function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

function int(args: ParsedArgs, name: string, min = 0): number {
  const v = args.flags[name];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw usage(`--${name} is ${JSON.stringify(v)}; pass a whole number >= ${min}`);
  }
  return v;
}

/**
 * Parses an identity set flag: names separated by commas or spaces (`EXT_high,Doctor`); `none`
 * or an empty string is the empty set. The names are sanitized (spec A6).
 *
 * @example
 * ```ts
 * import { parseIdentityList } from "./eval_commands.ts";
 * console.log(parseIdentityList("EXT_high, Doctor,EXT_low")); // ["EXT_high", "Doctor"]
 * ```
 */
export function parseIdentityList(text: string, professions?: readonly string[]): string[] {
  const names = text.split(/[\s,]+/).filter((s) => s && s.toLowerCase() !== "none");
  return sanitizeIdentities(names, professions ? { professions } : {});
}

const MODEL_FLAGS = (defaults: Partial<HirpfOptions>): Record<string, FlagSpec> => ({
  model: { type: "string", required: true, description: `agent <model>: ${MODEL_SYNTAX}` },
  adapter: {
    type: "string",
    description: "a trained hirpf adapter directory for a local --model (identities switch it)",
  },
  judge: { type: "string", required: true, description: "judge <model> (local: constrained JSON)" },
  "json-schema": {
    type: "boolean",
    default: true,
    description:
      "send the verdict JSON Schema as response_format (--no-json-schema for APIs without it)",
  },
  "max-retries": { type: "number", default: 3, description: "re-asks per malformed judge answer" },
  seed: { type: "number", default: defaults.seed ?? 0, description: "seed of every model call" },
  cache: { type: "string", default: ".cache/hirpf.sqlite", description: "SQLite response cache" },
  threads: { type: "number", description: "onnxruntime threads of the agent engine" },
  out: { type: "string", description: "JSON file for the full results (transcripts, votes)" },
});

async function writeOut(args: ParsedArgs, value: unknown): Promise<string | undefined> {
  const out = str(args, "out");
  if (!out) return undefined;
  await Deno.mkdir(dirname(out), { recursive: true }).catch(() => {});
  await writeJsonAtomic(out, value);
  return out;
}

function summary(r: ScaleRunResult) {
  return {
    factors: r.factors,
    targets: r.targets,
    accuracy: r.targets.length ? r.targets.filter((t) => t.correct).length / r.targets.length : NaN,
    items: r.items.length,
    judge_failures: r.judgeFailures,
  };
}

function scaleCommand(
  kind: "scale" | "profession",
  defaults: Partial<HirpfOptions>,
): PluginCommand {
  const professions = defaults.professions;
  return {
    name: kind,
    description: kind === "scale"
      ? "BF-marker-100 scale (spec A7): interview the agent on the items of each targeted factor " +
        "with interviewer follow-ups, 5 judge votes per item, reverse keying; factor means and accuracy"
      : "Profession scale: 20 competence statements per profession, interviewed and judged like " +
        "the BF-marker scale (mean above 3 = the profession is expressed)",
    flags: {
      ...MODEL_FLAGS(defaults),
      identities: {
        type: "string",
        required: kind === "scale",
        description: "the agent's identities, e.g. EXT_high,Doctor (sanitized as spec A6)",
      },
      ...(kind === "profession"
        ? {
          profession: {
            type: "string" as const,
            description: "profession whose items to use when --identities holds none (expect low)",
          },
          scale: {
            type: "string" as const,
            description: "item bank file: HIS's published benchmark/profession_scale.json " +
              "([{question, profession}]); default: the shipped bank",
          },
        }
        : {}),
      interviewer: { type: "string", description: "interviewer <model> (default: --judge)" },
      items: {
        type: "number",
        default: 20,
        description: "items per factor or profession (first N of the bank)",
      },
      "follow-ups": { type: "number", default: 2, description: "interviewer follow-up rounds" },
      votes: { type: "number", default: 5, description: "judge votes per item (majority)" },
      "max-tokens": { type: "number", default: 64, description: "max_tokens per agent answer" },
    },
    async run(args, ctx) {
      const identities = parseIdentityList(str(args, "identities") ?? "", professions);
      if (kind === "scale" && identities.length === 0) {
        throw usage(`--identities names no trait; pass e.g. --identities EXT_high,AGR_low`);
      }
      const scaleFile = kind === "profession" ? str(args, "scale") : undefined;
      const professionBank = scaleFile
        ? await loadProfessionScale(scaleFile, professions)
        : PROFESSION_SCALE;
      if (scaleFile) ctx.log(`${scaleFile}: ${professionBank.length} item(s)`);
      const models = new HirpfModels({
        hub: ctx.models,
        cachePath: str(args, "cache") ?? null,
        threads: args.flags.threads as number | undefined,
      });
      try {
        const agent = await models.agent(args.flags.model as string, str(args, "adapter"));
        const judge = await models.get(args.flags.judge as string);
        const interviewer = await models.get(
          str(args, "interviewer") ?? (args.flags.judge as string),
        );
        const perFactor = int(args, "items", 1);
        const common = {
          agent,
          interviewer,
          judge,
          identities,
          followUps: int(args, "follow-ups"),
          votes: int(args, "votes", 1),
          maxRetries: int(args, "max-retries"),
          jsonSchema: args.flags["json-schema"] !== false,
          agentRequest: { max_tokens: int(args, "max-tokens", 1) },
          seed: int(args, "seed"),
          signal: ctx.signal,
          onItem: (done: number, total: number) => ctx.log(`item ${done}/${total}`),
        };
        let result: ScaleRunResult;
        if (kind === "scale") {
          const seen = new Map<string, number>();
          const items = BF_MARKER_100.filter((i) => {
            const n = seen.get(i.factor) ?? 0;
            seen.set(i.factor, n + 1);
            return n < perFactor;
          });
          result = await runBigFiveScale({ ...common, items });
        } else {
          const seen = new Map<string, number>();
          const items = professionBank.filter((i) => {
            const n = seen.get(i.profession) ?? 0;
            seen.set(i.profession, n + 1);
            return n < perFactor;
          });
          result = await runProfessionScale({
            ...common,
            items,
            profession: str(args, "profession"),
          });
        }
        const cache = models.stats();
        const out = await writeOut(args, { identities, ...result, cache });
        const s = { identities, ...summary(result), cache, out: out ?? null };
        if (ctx.json) console.log(JSON.stringify(s, null, 2));
        else {
          for (const [f, v] of Object.entries(result.factors)) {
            console.log(
              `${f}: mean ${
                v.mean.toFixed(2)
              } (sum ${v.sum} over ${v.answered} answered, ${v.missing} missing)`,
            );
          }
          for (const t of result.targets) {
            console.log(`${t.identity}: expected ${t.expect}, expressed ${t.got ?? "neither"}`);
          }
          console.log(
            `accuracy ${(s.accuracy * 100).toFixed(0)}%; judge failures ${result.judgeFailures}; ` +
              `cache ${cache.hits} hit(s), ${cache.misses} call(s)${
                out ? `; written to ${out}` : ""
              }`,
          );
        }
        return 0;
      } finally {
        await models.close();
      }
    },
  };
}

function situationsCommand(defaults: Partial<HirpfOptions>): PluginCommand {
  const professions = defaults.professions;
  return {
    name: "situations",
    description:
      "Open situational tests (spec A7): the agent talks with an NPC in each scenario, " +
      "a judge guesses its identity slot by slot; accuracy against the number of combined identities",
    flags: {
      ...MODEL_FLAGS(defaults),
      npc: { type: "string", description: "NPC <model> (default: --judge)" },
      identities: {
        type: "string",
        multiple: true,
        description:
          "identity sets to test (repeatable, e.g. EXT_high,Doctor); default: a sample of all 971",
      },
      sample: {
        type: "number",
        default: 20,
        description: "without --identities: how many combinations to draw (seeded; 0 = all 971)",
      },
      tests: {
        type: "string",
        multiple: true,
        description:
          "scenarios to run by dimension, e.g. Extraversion or Doctor (repeatable; default all 8)",
      },
      scenarios: {
        type: "string",
        description: "scenario file: HIS's published benchmark/open_situational_test.json " +
          "({Openness: {Scenario, NPC_Setting, NPC_prompt, Interaction}, …}); default: the " +
          "shipped scenarios",
      },
      exchanges: { type: "number", default: 4, description: "agent turns per dialogue" },
      "max-tokens": { type: "number", default: 32, description: "max_tokens per agent reply" },
    },
    async run(args, ctx) {
      const given = (args.flags.identities as string[] | undefined) ?? [];
      let sets = given.map((t) => parseIdentityList(t, professions));
      if (sets.length === 0) {
        const all = allIdentityCombinations(professions);
        const n = int(args, "sample");
        sets = n === 0 || n >= all.length
          ? all
          : new Prng(int(args, "seed")).shuffle(all.map((_, i) => i)).slice(0, n).map((i) =>
            all[i]
          );
      }
      const scenarioFile = str(args, "scenarios");
      const bank = scenarioFile
        ? await loadSituationalTests(scenarioFile, professions)
        : SITUATIONAL_TESTS;
      const wanted = ((args.flags.tests as string[] | undefined) ?? []).map((w) =>
        HIS_FACTOR_CODES[w] ?? w
      );
      const tests = wanted.length ? bank.filter((t) => wanted.includes(t.dimension)) : [...bank];
      if (tests.length === 0) {
        throw usage(
          `--tests ${wanted.join(", ")} names no scenario; use ${
            bank.map((t) => t.dimension).join(", ")
          }`,
        );
      }
      const models = new HirpfModels({
        hub: ctx.models,
        cachePath: str(args, "cache") ?? null,
        threads: args.flags.threads as number | undefined,
      });
      try {
        const agent = await models.agent(args.flags.model as string, str(args, "adapter"));
        const judge = await models.get(args.flags.judge as string);
        const npc = await models.get(str(args, "npc") ?? (args.flags.judge as string));
        const seed = int(args, "seed");
        const outcomes:
          (SituationalOutcome & { test: string; transcript: unknown; reason?: string })[] = [];
        let k = 0;
        for (const identities of sets) {
          for (const test of tests) {
            const transcript = await runSituationalDialogue({
              agent,
              npc,
              identities,
              test,
              exchanges: int(args, "exchanges", 1),
              agentMaxTokens: int(args, "max-tokens", 1),
              seed,
              signal: ctx.signal,
            });
            const v = await judgeIdentity(judge, test.scenario, transcript, {
              professions,
              maxRetries: int(args, "max-retries"),
              jsonSchema: args.flags["json-schema"] !== false,
              seed,
              signal: ctx.signal,
            });
            outcomes.push({
              identities,
              guess: v.value,
              test: test.dimension,
              transcript,
              ...(v.value === null ? { reason: v.reason } : {}),
            });
            ctx.log(`dialogue ${++k}/${sets.length * tests.length}`);
          }
        }
        const accuracy = accuracyByIdentityCount(outcomes, professions);
        const cache = models.stats();
        const out = await writeOut(args, { accuracy, outcomes, cache });
        if (ctx.json) {
          console.log(JSON.stringify(
            { dialogues: outcomes.length, accuracy, cache, out: out ?? null },
            null,
            2,
          ));
        } else {
          console.log("identities  dialogues  active-slot acc  all-slot acc  judge failures");
          for (const r of accuracy) {
            console.log(
              `${String(r.numIdentities).padStart(10)}  ${String(r.dialogues).padStart(9)}  ${
                (r.activeSlotAccuracy * 100).toFixed(1).padStart(15)
              }  ${(r.allSlotAccuracy * 100).toFixed(1).padStart(12)}  ${
                String(r.judgeFailures).padStart(14)
              }`,
            );
          }
          console.log(
            `cache ${cache.hits} hit(s), ${cache.misses} call(s)${
              out ? `; written to ${out}` : ""
            }`,
          );
        }
        return 0;
      } finally {
        await models.close();
      }
    },
  };
}

/**
 * The plugin's commands with its options as defaults (professions, seed).
 *
 * @example
 * ```ts
 * import { hirpfCommands } from "./eval_commands.ts";
 * console.log(hirpfCommands().map((c) => c.name)); // ["scale", "profession", "situations"]
 * ```
 */
export function hirpfCommands(defaults: Partial<HirpfOptions> = {}): PluginCommand[] {
  return [
    scaleCommand("scale", defaults),
    scaleCommand("profession", defaults),
    situationsCommand(defaults),
    humanEvalSetCommand(defaults),
  ];
}
