/**
 * The actor agent's system prompt (CoSER §1.4): identity, profile, scenario, the other
 * characters, inner thoughts, an optional retrieval slot and the output requirements, followed by
 * the agent wrapper (word limit, and a name prefix rule for `llama*` / `step*` models).
 * The wording is this project's own; the section order and headers follow the paper's code.
 *
 * @module
 */

import type { Prng } from "../../core/util/prng.ts";
import type { TestRecord } from "./schemas.ts";

/** The placeholder replaced by retrieved text at every actor turn. */
export const RETRIEVAL_SLOT = "{retrieved_knowledge}";

/** The decorators that may precede each entry of the other-characters section. */
export const DECORATORS: readonly string[] = [
  "*".repeat(30) + "\n",
  "*".repeat(20) + "\n",
  "\n\n",
  "\n",
  "",
];

/** How the requirements describe the output: CoSER-trained, other models, or no thoughts. */
export type ActorStyle = "coser" | "generic" | "wo_thought";

/** What {@link buildActorPrompt} needs. */
export interface ActorPromptInput {
  character: string;
  book: string;
  profile: string;
  scenario: string;
  /** The other involved characters with non-empty profiles, in order. */
  others: [string, string][];
  motivation: string;
  retrieval: boolean;
  style: ActorStyle;
}

const REQUIREMENTS: Record<ActorStyle, string> = {
  coser:
    "Every reply mixes your character's thoughts, words and actions. Write private thoughts, " +
    "which nobody else can perceive, inside square brackets [ ], and actions others can see inside " +
    "round brackets ( ); everything outside brackets is spoken aloud.",
  generic:
    "Every reply mixes your character's thoughts, words and actions. Write private thoughts, " +
    "which nobody else can perceive, inside square brackets [ ], and actions others can see inside " +
    "round brackets ( ); everything outside brackets is spoken aloud. For instance, " +
    "[I am frightened, but they must think me fearless] is a thought, and " +
    "(looks on without a word) is an action.",
  wo_thought:
    "Every reply mixes your character's words and actions. Write actions others can see " +
    "inside round brackets ( ); everything outside brackets is spoken aloud.",
};

/**
 * Builds the actor's system prompt. The other-characters decorator is drawn once from `prng`.
 *
 * @example
 * ```ts
 * import { Prng } from "../../core/util/prng.ts";
 * import { buildActorPrompt } from "./actor_prompt.ts";
 * const p = buildActorPrompt({ character: "Tom", book: "B", profile: "A keeper.", scenario: "Storm.",
 *   others: [["Ada", "His sister."]], motivation: "Hide it.", retrieval: false, style: "coser" },
 *   new Prng(42));
 * p.startsWith("You are Tom from B."); // true
 * ```
 */
export function buildActorPrompt(input: ActorPromptInput, prng: Prng): string {
  const parts = [
    `You are ${input.character} from ${input.book}.`,
    `===${input.character}'s Profile===\n${input.profile}`,
    `===Current Scenario===\n${input.scenario}`,
  ];
  if (input.others.length > 0) {
    const decorator = prng.choice(DECORATORS);
    const entries = input.others.map(([name, profile]) => `${decorator}${name}: ${profile}`);
    parts.push(`===Information about the other Characters===\n${entries.join("\n")}`);
  }
  if (input.motivation.trim()) parts.push(`===Your Inner Thoughts===\n${input.motivation}`);
  if (input.retrieval) parts.push(`===Relevant Background Information===\n${RETRIEVAL_SLOT}`);
  parts.push(`===Requirements===\n${REQUIREMENTS[input.style]}`);
  return parts.join("\n\n");
}

/** True for model names (last path segment) starting `llama` or `step`, any case. */
export function needsNamePrefix(modelName: string): boolean {
  const base = modelName.split("/").pop()!.toLowerCase();
  return base.startsWith("llama") || base.startsWith("step");
}

/**
 * Appends the agent wrapper: speak briefly like a person within `wordLimit` words; for
 * `llama*` / `step*` models also start with `Name: ` and never speak for anyone else.
 *
 * @example
 * ```ts
 * import { wrapActorPrompt } from "./actor_prompt.ts";
 * wrapActorPrompt("You are Tom.", "Tom", "llama-3.1-8b", 60).includes('"Tom: "'); // true
 * ```
 */
export function wrapActorPrompt(
  prompt: string,
  name: string,
  modelName: string,
  wordLimit = 60,
): string {
  let out =
    `${prompt}\n\nTalk the way a real person would: keep it short, ${wordLimit} words at most.`;
  if (needsNamePrefix(modelName)) {
    out +=
      ` Begin your reply with "${name}: " and speak only as ${name}, never for another character.`;
  }
  return out;
}

/**
 * The profile shown for a character: its plot-level description, a blank line and its book-level
 * profile when it has a description in `plot.key_characters`, else the book-level profile alone.
 *
 * @example
 * ```ts ignore
 * import { characterProfile } from "./actor_prompt.ts";
 * declare const record: import("./schemas.ts").TestRecord;
 * characterProfile(record, "Ada Venn");
 * ```
 */
export function characterProfile(record: TestRecord, name: string): string {
  const book = record.character_profiles[name] ?? "";
  const desc = record.plot.key_characters.find((k) => k.name === name)?.description ?? "";
  return desc ? `${desc}\n\n${book}`.trim() : book;
}

/** Non-empty profiles of every speaking character except Environment, in speaking order. */
export function involvedProfiles(record: TestRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of record.speaking_characters_w_env) {
    if (name === "Environment") continue;
    const p = characterProfile(record, name);
    if (p.trim()) out[name] = p;
  }
  return out;
}
