/**
 * `macm questionnaire`: the self-report questionnaires (§2.6) with each method, scored
 * automatically; prints the scores per method and type, and counts unreadable answers.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import {
  CHARACTER_FLAGS,
  EMBED_FLAG,
  emit,
  loadCommandCharacter,
  MODEL_FLAGS,
  num,
  openCommandModels,
  parseMethods,
  simulacrumMaker,
  str,
} from "../cli_support.ts";
import { type QuestionItem, type QuestionnaireResult, runQuestionnaire } from "../questionnaire.ts";
import { SIMULACRUM_METHODS } from "../simulacrum.ts";

/** The score summary of one method. */
export interface MethodScore {
  Cloze: number;
  Single_choice: number;
  Multiple_choices: number;
  total: number;
  max: number;
  parse_failures: number;
}

/**
 * Sums a questionnaire result into a {@link MethodScore}.
 *
 * @example
 * ```ts
 * import { methodScore } from "./questionnaire.ts";
 * declare const r: import("../questionnaire.ts").QuestionnaireResult;
 * methodScore(r).total;
 * ```
 */
export function methodScore(r: QuestionnaireResult): MethodScore {
  const t = r.totals;
  const Cloze = t.Cloze ?? 0, Single_choice = t.Single_choice ?? 0;
  const Multiple_choices = t.Multiple_choices ?? 0;
  return {
    Cloze,
    Single_choice,
    Multiple_choices,
    total: Cloze + Single_choice + Multiple_choices,
    max: t.max,
    parse_failures: r.parse_failures,
  };
}

/**
 * The command.
 *
 * @example
 * ```ts
 * import { questionnaireCommand } from "./questionnaire.ts";
 * console.log(questionnaireCommand.name); // "questionnaire"
 * ```
 */
export const questionnaireCommand: PluginCommand = {
  name: "questionnaire",
  description: "Answer the character's questionnaires (cloze, single and multiple choice) with " +
    "each method and score them (2 points per unit; 50 for the full set).",
  flags: {
    methods: {
      type: "string",
      default: SIMULACRUM_METHODS.join(","),
      description: "comma-separated methods: none, prompt, rag, macm",
    },
    "items-per-type": {
      type: "number",
      description: "ask only the first N items of each type (quick runs; default: all)",
    },
    ...CHARACTER_FLAGS,
    ...MODEL_FLAGS,
    ...EMBED_FLAG,
  },
  async run(args, ctx) {
    const methods = parseMethods(str(args, "methods") ?? "", SIMULACRUM_METHODS);
    const character = await loadCommandCharacter(args);
    const per = num(args, "items-per-type", { int: true, min: 1 });
    const items: QuestionItem[] = Object.values(character.questions)
      .flatMap((list) => per ? list.slice(0, per) : list);
    if (items.length === 0) {
      throw new UsageError(
        `${character.profile.Name} has no questions/*.json; add Cloze, Single_choice or ` +
          "Multiple_choices files",
        "E_DATA",
      );
    }
    const models = await openCommandModels(args, ctx);
    const maker = simulacrumMaker(args, character, models, ctx.signal);
    const results: QuestionnaireResult[] = [];
    const scores: Record<string, MethodScore> = {};
    try {
      for (const method of methods) {
        const s = await maker.make(method);
        const r = await runQuestionnaire(
          s,
          items,
          num(args, "seed", { int: true }) ?? 0,
          (item, done, total) =>
            ctx.log(`${method}: ${done}/${total} ${item.type} ${item.points}/${item.max}`),
        );
        results.push(r);
        scores[method] = methodScore(r);
      }
      const stats = models.stats();
      emit(
        ctx,
        {
          character: character.profile.Name,
          model: models.simulacrum.id,
          scores,
          results,
          ...stats,
        },
        [
          `${character.profile.Name} (${models.simulacrum.id})`,
          "method   cloze single multiple total/max  unreadable",
          ...methods.map((m) => {
            const s = scores[m];
            return `${m.padEnd(8)} ${String(s.Cloze).padStart(5)} ${
              String(s.Single_choice).padStart(6)
            } ${String(s.Multiple_choices).padStart(8)} ${
              `${s.total}/${s.max}`.padStart(9)
            }  ${s.parse_failures}`;
          }),
          `model calls: ${stats.calls} (cached: ${stats.cached})`,
        ],
      );
    } finally {
      maker.close();
      models.close();
    }
    return 0;
  },
};
