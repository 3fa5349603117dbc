/**
 * The quickstart's `persona_world` plugin: the persona world's ground-truth labeller
 * (`datasets/persona_world/labeller.ts`) as a judge an experiment can call. Like the example
 * third-party plugin it is loaded by path (`--plugin ./examples/quickstart/world_plugin.ts`; the
 * `start` verb loads it) and uses only the public API.
 *
 * The `traits` judge scores a text, a `{prompt, response}` pair, a rollout row (`answer`) or a
 * transcript (the turns of `responder` / `assistant` speakers, or all turns when there are none):
 * one 0/1 field per identity (1 = the text expresses it and not its opposite), `valence`
 * (optimistic − pessimistic), `grammatical` (share of sentences in the world's grammar) and
 * `sentences`.
 *
 * The `label-rollouts` command is the same ground truth for persona_vectors' rollout files: it
 * fills a trait column (100 × the trait's 0/1 verdict on the `answer`) and the `coherence` column
 * (100 × the share of grammatical sentences), so `persona_vectors extract` keeps the pairs whose
 * positive reply has the trait and whose negative one does not.
 *
 * @module
 */

import { basename, join } from "node:path";
import { z } from "zod";
import type { Judge, Plugin, PluginCommand } from "../../mod.ts";
import { type WorldVerdict, worldVerdict } from "../../datasets/persona_world/labeller.ts";
import { formatCsv, parseCsv } from "./csv.ts";

/** Options of the plugin. */
export const WorldPluginOptions = z.object({
  speakers: z.array(z.string()).default(["responder", "assistant"]).describe(
    "transcript speakers whose turns are judged (all turns when none of them speaks)",
  ),
}).strict();

/** Parsed options. */
export type WorldPluginOptions = z.infer<typeof WorldPluginOptions>;

/** The verdict schema: numeric fields only. */
export const WorldVerdictSchema: z.ZodType<WorldVerdict> = z.record(z.string(), z.number());

/** The text a judge input holds, or null. */
export function textOf(input: unknown, speakers: readonly string[]): string | null {
  if (typeof input === "string") return input;
  if (typeof input !== "object" || input === null) return null;
  const r = input as Record<string, unknown>;
  for (const key of ["response", "answer", "text"]) {
    if (typeof r[key] === "string") return r[key] as string;
  }
  if (Array.isArray(r.turns)) {
    const turns = r.turns as { speaker?: string; text?: string }[];
    const own = turns.filter((t) => speakers.includes(String(t.speaker)));
    return (own.length ? own : turns).map((t) => String(t.text ?? "")).join("\n");
  }
  return null;
}

/**
 * Makes the ground-truth judge.
 *
 * @example
 * ```ts
 * import { worldJudge } from "./world_plugin.ts";
 * const v = await worldJudge().judge("I stay calm. Tomorrow looks bright.", {});
 * console.log(v.value?.NEU_low, v.value?.optimistic); // 1 1
 * ```
 */
export function worldJudge(
  options: WorldPluginOptions = WorldPluginOptions.parse({}),
): Judge<unknown, WorldVerdict> {
  return {
    name: "traits",
    schema: WorldVerdictSchema,
    judge(input) {
      const text = textOf(input, options.speakers);
      if (text === null) {
        return Promise.resolve({
          value: null,
          reason: "input is not a text, {response}, {answer} or a transcript",
        });
      }
      if (!/[a-z]/i.test(text)) {
        return Promise.resolve({ value: null, reason: "the text has no words", raw: text });
      }
      return Promise.resolve({ value: worldVerdict(text) });
    },
  };
}

/**
 * Labels rollout CSV files (`question,prompt,answer,…` with a trait column) with the ground
 * truth; returns one summary per file.
 *
 * @example
 * ```ts ignore
 * import { labelRollouts } from "./world_plugin.ts";
 * await labelRollouts(["runs/r/optimistic_pos.csv"], "optimistic", "runs/labelled");
 * ```
 */
export async function labelRollouts(
  files: readonly string[],
  trait: string,
  out: string,
): Promise<{ file: string; out: string; rows: number; with_trait: number }[]> {
  await Deno.mkdir(out, { recursive: true });
  const done = [];
  for (const file of files) {
    const [header, ...rows] = parseCsv(await Deno.readTextFile(file));
    const col = (name: string) => {
      let i = header.indexOf(name);
      if (i < 0) {
        header.push(name);
        i = header.length - 1;
        for (const r of rows) r.push("");
      }
      return i;
    };
    const answer = header.indexOf("answer");
    if (answer < 0) {
      throw new TypeError(`${file}: no 'answer' column; pass a persona_vectors rollout file`);
    }
    const t = col(trait);
    const c = col("coherence");
    let withTrait = 0;
    for (const r of rows) {
      const v = worldVerdict(r[answer] ?? "");
      r[t] = String(100 * (v[trait] ?? 0));
      r[c] = String(Math.round(100 * v.grammatical));
      withTrait += v[trait] === 1 ? 1 : 0;
    }
    const target = join(out, basename(file));
    await Deno.writeTextFile(target, formatCsv([header, ...rows]));
    done.push({ file, out: target, rows: rows.length, with_trait: withTrait });
  }
  return done;
}

const labelCommand: PluginCommand = {
  name: "label-rollouts",
  description: "Fill the trait and coherence columns of persona_vectors rollout CSVs from the " +
    "world's ground truth (100 × verdict, 100 × grammatical share).",
  flags: {
    in: { type: "string", multiple: true, required: true, description: "rollout CSV (repeatable)" },
    trait: { type: "string", default: "optimistic", description: "trait column to fill" },
    out: { type: "string", required: true, description: "output directory" },
  },
  async run(args, ctx) {
    const files = (args.flags.in as string[] | undefined) ?? [];
    const trait = String(args.flags.trait ?? "optimistic");
    const result = await labelRollouts(files, trait, String(args.flags.out));
    if (ctx.json) console.log(JSON.stringify({ trait, files: result }, null, 2));
    else {
      for (const f of result) console.log(`${f.out}: ${f.with_trait}/${f.rows} rows with ${trait}`);
    }
    return 0;
  },
};

const plugin: Plugin<WorldPluginOptions> = {
  name: "persona_world",
  version: "0.1.0",
  description: "The persona world's ground-truth labeller as a judge (traits, valence, " +
    "grammaticality of world text).",
  options: WorldPluginOptions,
  provides: ["judge"],
  create(options) {
    return { judges: { traits: worldJudge(options) } };
  },
  commands: [labelCommand],
};

export default plugin;
