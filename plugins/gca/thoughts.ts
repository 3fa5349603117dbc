/**
 * Thought handling for CoSER messages, which mix `[private thought]`, `(visible action)` and
 * speech. Other characters, the environment, the next-speaker agent and the judge never see a
 * character's thoughts, so messages pass through {@link removeThoughts} before they are shared.
 *
 * @module
 */

const THINKING_BLOCKS = [
  /<system_thinking>[\s\S]*?<\/system_thinking>/g,
  /<role_thinking>[\s\S]*?<\/role_thinking>/g,
  /<think>[\s\S]*?<\/think>/g,
];

/**
 * Removes private thoughts: every `[...]` within a line, and `<system_thinking>`,
 * `<role_thinking>` and `<think>` blocks across lines; then trims each line, drops empty lines
 * and trims the result.
 *
 * @example
 * ```ts
 * import { removeThoughts } from "./thoughts.ts";
 * removeThoughts("[He lies.] (smiles) Fine.\n\n[Sigh]\n  Really."); // "(smiles) Fine.\nReally."
 * ```
 */
export function removeThoughts(text: string): string {
  let t = text;
  for (const re of THINKING_BLOCKS) t = t.replace(re, "");
  t = t.replace(/\[[^\n]*?\]/g, "");
  return t.split("\n").map((l) => l.trim()).filter((l) => l.length > 0).join("\n").trim();
}

/** A message split into its parts. */
export interface MessageParts {
  thoughts: string[];
  actions: string[];
  /** The message with thoughts and actions removed, whitespace collapsed. */
  speech: string;
}

/**
 * Splits a message into thoughts (`[...]`), actions (`(...)`) and speech.
 *
 * @example
 * ```ts
 * import { splitMessage } from "./thoughts.ts";
 * splitMessage("[Stay calm.] (sits) Gone?");
 * // { thoughts: ["Stay calm."], actions: ["sits"], speech: "Gone?" }
 * ```
 */
export function splitMessage(text: string): MessageParts {
  const thoughts = [...text.matchAll(/\[([^\n]*?)\]/g)].map((m) => m[1].trim());
  const noThoughts = text.replace(/\[[^\n]*?\]/g, " ");
  const actions = [...noThoughts.matchAll(/\(([^\n]*?)\)/g)].map((m) => m[1].trim());
  const speech = noThoughts.replace(/\([^\n]*?\)/g, " ").replace(/\s+/g, " ").trim();
  return { thoughts, actions, speech };
}
