/**
 * The next-speaker agent's system prompt (CoSER §1.4). The `reasoned` format asks for a short
 * reasoning then `Next Speaker: <name>` (the repository's current form); `name_only` asks for the
 * name alone (the earlier form, and what CoSER's training samples teach). Own wording.
 *
 * @module
 */

import { pyList } from "./py_repr.ts";
import { END_CHAT } from "./speaker.ts";

/** How the next-speaker agent is asked to answer. */
export type NspFormat = "reasoned" | "name_only";

/**
 * Builds the next-speaker prompt over the candidate list (`speaking_characters_w_env`).
 *
 * @example
 * ```ts
 * import { buildNspPrompt } from "./nsp_prompt.ts";
 * buildNspPrompt("A storm.", ["Ada", "Tom", "Environment"]).includes("Next Speaker:"); // true
 * ```
 */
export function buildNspPrompt(
  scenario: string,
  candidates: readonly string[],
  format: NspFormat = "reasoned",
): string {
  const parts = [
    "You direct a role-playing scene. Given the conversation so far, decide who acts next: one " +
    "of the characters, or Environment, the role that describes how the surroundings respond.",
    `Pick exactly one name from this list: ${pyList(candidates)}.`,
    `If no choice stands out, answer random. If the scene has reached a natural end, answer ${END_CHAT}.`,
    `===The scenario is as follows===\n${scenario}`,
  ];
  if (format === "reasoned") {
    parts.push(
      "===Output Format===\n1. Reasoning: <a sentence or two on who should act next and why>\n" +
        "2. Next Speaker: <one name from the list, random, or " + END_CHAT + ">",
    );
  } else parts.push(`Answer with the name only.`);
  return parts.join("\n\n");
}
