/**
 * `macm jung-test`: the automated observer report (§2.7): agreement with trait sentences of every
 * function and level, ranked and compared with the character's true stack by Kendall τ.
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
  simulacrumMaker,
  str,
} from "../cli_support.ts";
import { defaultTraitBank } from "../jung.ts";
import { runJungTest } from "../jung_assessment.ts";
import { SIMULACRUM_METHODS, type SimulacrumMethod } from "../simulacrum.ts";

/**
 * The command.
 *
 * @example
 * ```ts
 * import { jungTestCommand } from "./jung_test.ts";
 * console.log(jungTestCommand.name); // "jung-test"
 * ```
 */
export const jungTestCommand: PluginCommand = {
  name: "jung-test",
  description: "Run the Jung cognitive-function test (256 yes/no items at ratio 0.4) and report " +
    "Kendall τ between the predicted and true function ranks.",
  flags: {
    method: {
      type: "string",
      default: "macm",
      choices: SIMULACRUM_METHODS,
      description: "none, prompt, rag or macm",
    },
    ratio: { type: "number", default: 0.4, description: "share of each cell's 10 sentences" },
    ...CHARACTER_FLAGS,
    ...MODEL_FLAGS,
    ...EMBED_FLAG,
  },
  async run(args, ctx) {
    const character = await loadCommandCharacter(args);
    const stack = character.profile.Function_stack;
    if (!stack) {
      throw new UsageError(
        `${character.profile.Name}'s profile.json has no Function_stack; add the true stack ` +
          '(e.g. ["Se","Ti","Fi","Ni","Te","Si","Ne","Fe"])',
        "E_DATA",
      );
    }
    const method = (str(args, "method") ?? "macm") as SimulacrumMethod;
    const models = await openCommandModels(args, ctx);
    const maker = simulacrumMaker(args, character, models, ctx.signal);
    try {
      const s = await maker.make(method);
      const r = await runJungTest(s, defaultTraitBank(), stack, {
        seed: num(args, "seed", { int: true }) ?? 0,
        ratio: num(args, "ratio", { min: 0 }) ?? 0.4,
      });
      const tau = Number.isFinite(r.kendall_tau) ? r.kendall_tau : null;
      const agreed = r.replies.filter((x) => /\byes\b/i.test(x)).length;
      emit(
        ctx,
        {
          character: character.profile.Name,
          method,
          kendall_tau: tau,
          tau_undefined_reason: tau === null ? "all functions total the same" : undefined,
          totals: r.totals,
          predicted_stack: r.predicted_stack,
          true_stack: stack,
          items: r.items.length,
          agreed,
          replies: r.replies,
          ...models.stats(),
        },
        [
          `${character.profile.Name} (${method}): Kendall τ = ${
            tau === null ? "undefined" : tau.toFixed(3)
          }`,
          `predicted: ${r.predicted_stack.join(" ")}   true: ${stack.join(" ")}`,
          `agreed with ${agreed} of ${r.items.length} sentences`,
        ],
      );
    } finally {
      maker.close();
      models.close();
    }
    return 0;
  },
};
