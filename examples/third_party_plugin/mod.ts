/**
 * An example third-party Dramatis plugin, written the way an outside author would: a
 * lexicon-based valence judge. It scores how positive or negative a reply or a whole transcript
 * sounds, from a word list with negation and intensifier handling, without any model call.
 *
 * Load it by path: `deno task dramatis plugins --plugin ./examples/third_party_plugin/mod.ts`.
 * Outside this repository, import the types from the published package instead of `../../mod.ts`.
 *
 * @module
 */

import { z } from "zod";
import type { Judge, Plugin, Transcript } from "../../mod.ts";
import { scoreValence, type ValenceLexicon } from "./valence.ts";

const bundled = JSON.parse(
  await Deno.readTextFile(new URL("./lexicon.json", import.meta.url)),
) as ValenceLexicon;

/** Options of the lexicon judge. */
export const LexiconJudgeOptions = z.object({
  lexicon: z.string().optional().describe(
    "path to a JSON lexicon {valences, negators, intensifiers} replacing the bundled one",
  ),
  extra_valences: z.record(z.string(), z.number().min(-4).max(4)).default({}).describe(
    "word valences (-4..4) added to the lexicon",
  ),
  negation_factor: z.number().max(0).default(-0.5).describe(
    "multiplier for a valence preceded by a negator within the window",
  ),
  window: z.number().int().min(0).max(5).default(3).describe(
    "how many preceding words are searched for a negator",
  ),
  alpha: z.number().positive().default(15).describe(
    "normalisation constant: score = sum / sqrt(sum^2 + alpha)",
  ),
});

/** Parsed options. */
export type LexiconJudgeOptions = z.infer<typeof LexiconJudgeOptions>;

/** What the judge returns. */
export const ValenceSchema = z.object({
  score: z.number().min(-1).max(1),
  sum: z.number(),
  positive: z.number().int().min(0),
  negative: z.number().int().min(0),
  tokens: z.number().int().min(1),
  matched: z.array(z.object({ word: z.string(), valence: z.number() })),
  by_speaker: z.record(z.string(), z.number()).optional(),
});

/** A verdict of the valence judge. */
export type ValenceVerdict = z.infer<typeof ValenceSchema>;

/** Input: a text, or a transcript whose turns are scored together and per speaker. */
export type ValenceInput = string | Pick<Transcript, "turns">;

async function loadLexicon(options: LexiconJudgeOptions): Promise<ValenceLexicon> {
  let base = bundled;
  if (options.lexicon) {
    const text = await Deno.readTextFile(options.lexicon).catch((error) => {
      throw new TypeError(
        `lexicon_judge: option 'lexicon' is ${JSON.stringify(options.lexicon)}: ${
          (error as Error).message
        }; pass a readable JSON file`,
      );
    });
    base = JSON.parse(text);
  }
  return { ...base, valences: { ...base.valences, ...options.extra_valences } };
}

/**
 * Makes the valence judge for given options.
 *
 * @example
 * ```ts
 * import { makeValenceJudge, LexiconJudgeOptions } from "./mod.ts";
 * const judge = await makeValenceJudge(LexiconJudgeOptions.parse({}));
 * const v = await judge.judge("What a wonderful day!", {});
 * console.log(v.value?.score);
 * ```
 */
export async function makeValenceJudge(
  options: LexiconJudgeOptions,
): Promise<Judge<ValenceInput, ValenceVerdict>> {
  const lexicon = await loadLexicon(options);
  const settings = { negationFactor: options.negation_factor, window: options.window };
  return {
    name: "valence",
    schema: ValenceSchema,
    judge(input) {
      const text = typeof input === "string" ? input : input.turns.map((t) => t.text).join("\n");
      const result = scoreValence(text, lexicon, { ...settings, alpha: options.alpha });
      if (result === null) {
        return Promise.resolve({
          value: null,
          reason: "the text has no words to score",
          raw: text,
        });
      }
      if (typeof input !== "string") {
        const bySpeaker: Record<string, number> = {};
        for (const speaker of new Set(input.turns.map((t) => t.speaker))) {
          const own = input.turns.filter((t) => t.speaker === speaker).map((t) => t.text).join(
            "\n",
          );
          const s = scoreValence(own, lexicon, { ...settings, alpha: options.alpha });
          if (s) bySpeaker[speaker] = s.score;
        }
        return Promise.resolve({ value: { ...result, by_speaker: bySpeaker } });
      }
      return Promise.resolve({ value: result });
    },
  };
}

const plugin: Plugin<LexiconJudgeOptions> = {
  name: "lexicon_judge",
  version: "0.1.0",
  description: "Lexicon-based valence judge (-1 negative … +1 positive) with negation handling.",
  options: LexiconJudgeOptions,
  provides: ["judge"],
  async create(options) {
    return { judges: { valence: await makeValenceJudge(options) } };
  },
  commands: [{
    name: "score",
    description: "Score texts (or a file's lines) and print one verdict per text.",
    flags: {
      text: { type: "string", multiple: true, description: "a text to score (repeatable)" },
      file: { type: "string", description: "a file whose non-empty lines are scored" },
    },
    async run(args, ctx) {
      const texts = [...(args.flags.text as string[] | undefined ?? [])];
      if (typeof args.flags.file === "string") {
        texts.push(
          ...(await Deno.readTextFile(args.flags.file)).split("\n").filter((l) => l.trim()),
        );
      }
      if (texts.length === 0) {
        throw new TypeError('lexicon_judge score: give --text "..." or --file <path>');
      }
      const judge = await makeValenceJudge(LexiconJudgeOptions.parse({}));
      const verdicts = [];
      for (const text of texts) verdicts.push({ text, ...(await judge.judge(text, {})) });
      if (ctx.json) console.log(JSON.stringify({ verdicts }, null, 2));
      else {
        for (const v of verdicts) {
          const score = v.value === null ? `null (${v.reason})` : v.value.score.toFixed(3);
          console.log(`${score}\t${v.text}`);
        }
      }
      return 0;
    },
  }],
};

export default plugin;
