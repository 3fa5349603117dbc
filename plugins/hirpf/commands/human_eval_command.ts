/**
 * `dramatis hirpf human-eval-set`: the dialogues of a `situations --out` run as a
 * human-evaluation set (core/human_eval) for identity recognition by people, as in HIS's human
 * evaluation (`human_evaluation/open_sample10_320.csv`: identity, dialog, gpt_pred, human_pred):
 * one question per identity slot (AGR, CON, EXT, NEU, OPE: high / low / none; Profession), the
 * truth from the identity the agent wore, the LLM judge's guess as the judge answer.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError, withCode } from "../../../core/errors.ts";
import { type HumanEvalItem, parseHumanEvalSet } from "../../../core/human_eval/items.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { Prng } from "../../../core/util/prng.ts";
import { BIG_FIVE_FACTORS, DEFAULT_PROFESSIONS } from "../identities.ts";
import { SITUATIONAL_TESTS } from "../eval/items.ts";
import type { EvalLine } from "../eval/prompts.ts";
import { IDENTITY_SLOTS, type IdentityDict, identityDict } from "../eval/situational.ts";
import type { HirpfOptions } from "../options.ts";

const FACTOR_NAMES: Record<string, string> = {
  AGR: "Agreeableness",
  CON: "Conscientiousness",
  EXT: "Extraversion",
  NEU: "Neuroticism",
  OPE: "Openness",
};

/** Slot answers as set choices: factors high/low/none, profession a name or None. */
export function slotAnswers(d: IdentityDict): Record<string, string> {
  return Object.fromEntries(
    IDENTITY_SLOTS.map((s) => [s, d[s] ?? (s === "Profession" ? "None" : "none")]),
  );
}

/** The command. */
export function humanEvalSetCommand(defaults: Partial<HirpfOptions> = {}): PluginCommand {
  const professions = defaults.professions ?? DEFAULT_PROFESSIONS;
  return {
    name: "human-eval-set",
    description: "Turn the dialogues of 'situations --out' into a human-evaluation set: people " +
      "guess the agent's identity slot by slot; the judge's guesses are kept for κ. Export it " +
      "with 'dramatis human-eval export'.",
    flags: {
      situations: {
        type: "string",
        required: true,
        description: "the JSON written by 'hirpf situations --out'",
      },
      sample: {
        type: "number",
        description: "keep this many dialogues (seeded draw; default all)",
      },
      seed: { type: "number", default: 0, description: "seed of --sample" },
      out: { type: "string", required: true, description: "the set file to write (JSON)" },
    },
    async run(args, ctx) {
      const file = args.flags.situations as string;
      const out = args.flags.out as string;
      let doc: { outcomes?: unknown };
      try {
        doc = JSON.parse(await Deno.readTextFile(file));
      } catch (e) {
        throw withCode(
          new TypeError(
            `${file} cannot be read as JSON (${
              (e as Error).message
            }); pass 'situations --out' output`,
          ),
          "E_DATA",
        );
      }
      if (!Array.isArray(doc.outcomes)) {
        throw withCode(
          new TypeError(`${file}: field "outcomes" is missing; pass 'situations --out' output`),
          "E_DATA",
        );
      }
      const items: HumanEvalItem[] = [];
      for (const [i, o] of (doc.outcomes as Record<string, unknown>[]).entries()) {
        const identities = o.identities;
        const transcript = o.transcript as EvalLine[] | undefined;
        if (!Array.isArray(identities) || !Array.isArray(transcript)) {
          throw withCode(
            new TypeError(
              `${file}: outcomes[${i}] lacks "identities" or "transcript"; rerun situations with --out`,
            ),
            "E_DATA",
          );
        }
        const test = SITUATIONAL_TESTS.find((t) => t.dimension === o.test);
        const guess = o.guess as IdentityDict | null;
        items.push({
          id: `${i}`,
          ...(test ? { text: `Scenario: ${test.scenario}` } : {}),
          turns: transcript.map((l) => ({
            speaker: l.speaker === "agent" ? "Y" : "X",
            content: l.text,
          })),
          truth: slotAnswers(identityDict(identities as string[], professions)),
          ...(guess ? { judge: slotAnswers(guess) } : {}),
          meta: { identities, test: o.test ?? null },
        });
      }
      if (!items.length) throw new UsageError(`${file} holds no dialogues`);
      const n = args.flags.sample as number | undefined;
      const kept = n && n < items.length
        ? new Prng(args.flags.seed as number).shuffle(items.map((_, i) => i)).slice(0, n).sort((
          a,
          b,
        ) => a - b).map((i) => items[i])
        : items;
      const set = parseHumanEvalSet({
        task: "identity",
        title: "Which identity does Y have?",
        instructions: "Read the conversation between X and Y. For each dimension, say whether Y " +
          "shows it high, low or not at all (none), and which profession Y has, if any.",
        questions: [
          ...BIG_FIVE_FACTORS.map((f) => ({
            id: f,
            prompt: `${FACTOR_NAMES[f]} of Y`,
            choices: ["high", "low", "none"],
          })),
          { id: "Profession", prompt: "Profession of Y", choices: [...professions, "None"] },
        ],
        items: kept,
      }, out);
      await writeJsonAtomic(out, set);
      if (ctx.json) console.log(JSON.stringify({ out, items: set.items.length }));
      else {
        console.log(
          `${set.items.length} dialogues → ${out}; next: deno task dramatis human-eval export --set ${out} --out <dir>`,
        );
      }
      return 0;
    },
  };
}
