/**
 * `macm bandwagon`: the Asch conformity experiment (§2.8) in both conditions, with the
 * conformity rate under group pressure against the control run.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { type BandwagonRun, conformityEffect, runBandwagon } from "../bandwagon.ts";
import {
  CHARACTER_FLAGS,
  EMBED_FLAG,
  emit,
  loadCommandCharacter,
  MODEL_FLAGS,
  openCommandModels,
  simulacrumMaker,
  str,
} from "../cli_support.ts";
import { SIMULACRUM_METHODS, type SimulacrumMethod } from "../simulacrum.ts";

/**
 * The command.
 *
 * @example
 * ```ts
 * import { bandwagonCommand } from "./bandwagon.ts";
 * console.log(bandwagonCommand.name); // "bandwagon"
 * ```
 */
export const bandwagonCommand: PluginCommand = {
  name: "bandwagon",
  description: "Run the 18 line-judgement trials under group pressure and in control, and " +
    "report the conformity rate against the control run.",
  flags: {
    method: {
      type: "string",
      default: "macm",
      choices: SIMULACRUM_METHODS,
      description: "none, prompt, rag or macm",
    },
    ...CHARACTER_FLAGS,
    ...MODEL_FLAGS,
    ...EMBED_FLAG,
  },
  async run(args, ctx) {
    const method = (str(args, "method") ?? "macm") as SimulacrumMethod;
    const character = await loadCommandCharacter(args);
    const models = await openCommandModels(args, ctx);
    const maker = simulacrumMaker(args, character, models, ctx.signal);
    try {
      const runs: Partial<Record<BandwagonRun["condition"], BandwagonRun>> = {};
      for (const condition of ["group_pressure", "control"] as const) {
        let k = 0;
        runs[condition] = await runBandwagon(
          await maker.make(method),
          condition,
          () => ctx.log(`${condition}: ${k++ === 0 ? "framing" : `trial ${k - 1}/18`}`),
        );
      }
      const effect = conformityEffect(runs.group_pressure!, runs.control!);
      const stats = models.stats();
      emit(
        ctx,
        { character: character.profile.Name, method, ...effect, runs, ...stats },
        [
          `${character.profile.Name} (${method})`,
          `conformity rate under pressure: ${effect.conformity_rate.toFixed(3)} ` +
          `(${runs.group_pressure!.conformed}/12 critical trials)`,
          `control: error rate ${effect.control_error_rate.toFixed(3)}, same line as the group ` +
          `${effect.control_same_line_rate.toFixed(3)}; effect ${effect.effect.toFixed(3)}`,
          `unanswered trials: ${runs.group_pressure!.unanswered} under pressure, ` +
          `${runs.control!.unanswered} in control`,
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
