/**
 * The roleplay Plugin object: the LLM Roleplay simulator and the indistinguishability judge as
 * roles, and the `generate` / `judge` commands.
 *
 * @module
 */

import { humanEvalSetCommand } from "./human_eval_command.ts";
import type { Plugin } from "../../core/contracts/plugin.ts";
import { generateCommand } from "./generate_command.ts";
import { indistinguishabilityJudge } from "./indistinguishability_judge.ts";
import { judgeCommand } from "./judge_command.ts";
import { type RoleplayOptions, roleplayOptionsSchema, simulatorOptionsFrom } from "./options.ts";
import { roleplaySimulator } from "./simulator.ts";

/**
 * Makes the roleplay plugin. Roles: `simulators.roleplay` (models `inquirer` and `responder`;
 * input `{persona, goal}`) and `judges.indistinguishability` (input `{dialog, goal?}`).
 *
 * @example
 * ```ts
 * import { roleplay } from "./plugin.ts";
 * const plugin = roleplay();
 * const roles = await plugin.create(plugin.options.parse({ numTurns: 4 }));
 * console.log(Object.keys(roles.simulators!)); // ["roleplay"]
 * ```
 */
export function roleplay(): Plugin<RoleplayOptions> {
  return {
    name: "roleplay",
    version: "0.1.0",
    description: "LLM Roleplay: goal-oriented, persona-based simulated users talking to any " +
      "chatbot, and an indistinguishability judge (arXiv 2407.03974).",
    options: roleplayOptionsSchema,
    provides: ["simulator", "judge"],
    create(options) {
      return {
        simulators: { roleplay: roleplaySimulator(simulatorOptionsFrom(options)) },
        judges: {
          indistinguishability: indistinguishabilityJudge({
            maxRetries: options.judgeMaxRetries,
            maxTokens: options.judgeMaxTokens,
          }),
        },
      };
    },
    commands: [generateCommand, judgeCommand, humanEvalSetCommand],
  };
}

/** The plugin with its defaults, for `--plugin ./plugins/roleplay/plugin.ts`. */
const plugin: Plugin<RoleplayOptions> = roleplay();
export default plugin;
