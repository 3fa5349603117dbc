/**
 * The built-in `macm` plugin (Human Simulacra): the `macm` simulator, the questionnaire, Jung-test
 * and bandwagon judges, the `macm` persona backend, and the `deno task dramatis macm <command>`
 * commands.
 *
 * @module
 */

import type { Plugin } from "../../core/contracts/plugin.ts";
import { macmBackend } from "./backend.ts";
import { MACM_COMMANDS } from "./commands/mod.ts";
import { bandwagonJudge, jungJudge, questionnaireJudge } from "./judges.ts";
import { type MacmOptions, macmOptionsSchema } from "./options.ts";
import { macmSimulator } from "./simulator.ts";

/**
 * Makes the macm plugin.
 *
 * @example
 * ```ts
 * import { macm } from "./plugin.ts";
 * const plugin = macm();
 * const roles = await plugin.create(plugin.options.parse({}));
 * console.log(Object.keys(roles.judges!)); // ["questionnaire", "jung_test", "bandwagon"]
 * ```
 */
export function macm(): Plugin<MacmOptions> {
  return {
    name: "macm",
    version: "0.1.0",
    description: "Human Simulacra: multi-agent cognitive mechanism (memory, thinking, emotion " +
      "agents) over a character's life story; questionnaires, Jung test, bandwagon experiment.",
    options: macmOptionsSchema,
    provides: ["simulator", "judge"],
    create(o, context) {
      return {
        simulators: {
          macm: macmSimulator({
            method: o.method,
            memoryLimit: o.memoryLimit,
            temperature: o.temperature,
            maxTokens: o.maxTokens,
          }),
        },
        judges: {
          questionnaire: questionnaireJudge(),
          jung_test: jungJudge(),
          bandwagon: bandwagonJudge(),
        },
        backends: {
          macm: macmBackend({
            models: context.models,
            method: o.method,
            character: o.character,
            memoryLimit: o.memoryLimit,
            temperature: o.temperature,
            maxTokens: o.maxTokens,
            seed: o.seed,
            ragChunkSize: o.ragChunkSize,
            ragOverlap: o.ragOverlap,
            ragK: o.ragK,
          }),
        },
      };
    },
    commands: MACM_COMMANDS,
  };
}

export default macm();
