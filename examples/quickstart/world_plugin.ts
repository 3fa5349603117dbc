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
 * @module
 */

import { z } from "zod";
import type { Judge, Plugin } from "../../mod.ts";
import { type WorldVerdict, worldVerdict } from "../../datasets/persona_world/labeller.ts";

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
};

export default plugin;
