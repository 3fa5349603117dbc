/**
 * The environment agent's system prompt (CoSER §1.4): it narrates the consequences of what the
 * characters do (setting, bystanders, sounds, weather) without acting for the main characters.
 * The wording is this project's own.
 *
 * @module
 */

import type { Prng } from "../../core/util/prng.ts";
import { pyList } from "./py_repr.ts";

/** The role names one of which the prompt gives the environment agent. */
export const ENVIRONMENT_ROLES: readonly string[] = [
  "environment model",
  "world model",
  "world simulator",
  "environment simulator",
];

/**
 * Builds the environment prompt; the role name is drawn from `prng`.
 *
 * @example
 * ```ts
 * import { Prng } from "../../core/util/prng.ts";
 * import { buildEnvironmentPrompt } from "./environment_prompt.ts";
 * buildEnvironmentPrompt("A storm.", ["Ada", "Tom"], new Prng(1)).includes("['Ada', 'Tom']"); // true
 * ```
 */
export function buildEnvironmentPrompt(
  scenario: string,
  majorCharacters: readonly string[],
  prng: Prng,
): string {
  const role = prng.choice(ENVIRONMENT_ROLES);
  return [
    `You are the ${role} of a role-playing game.`,
    "Your job is to narrate how the world responds to what the characters say and do: changes " +
    "to the physical surroundings, how background characters or crowds react, sounds, weather " +
    "and atmosphere, and any other detail of the setting worth noticing.",
    `Never decide what the main characters ${pyList(majorCharacters)} do or say. You may give ` +
    "minor characters and crowds brief actions or words.",
    "Answer in one to three sentences that fit the tone and setting of the scene.",
    `===The scenario is as follows===\n${scenario}`,
  ].join("\n\n");
}
