/**
 * The message list a persona sends to its model: its system prompt, its first message, then the
 * conversation, with `{{char}}` / `{{user}}` substituted in the persona's own text.
 *
 * @module
 */

import type { ChatMessage } from "../contracts/chat_model.ts";
import type { Persona } from "../contracts/persona.ts";
import { substituteMacros } from "./macros.ts";

/** Options of {@link buildPersonaMessages}. */
export interface PersonaMessageOptions {
  /** The user's name for `{{user}}` (default: the persona's `user_name`). */
  userName?: string;
}

/**
 * Builds the messages for one turn. Order: the persona's system prompt; the conversation's own
 * system messages that lead it; the persona's first message as an assistant turn, unless the
 * conversation already opens with an assistant turn (a client that shows the greeting sends it
 * back); then the rest of the conversation unchanged.
 *
 * @example
 * ```ts
 * import { buildPersonaMessages } from "./persona_messages.ts";
 * const persona = { name: "ada", char_name: "Ada", user_name: "Sam", system_prompt: "You are {{char}}.",
 *   first_message: "Hi {{user}}!" } as never;
 * console.log(buildPersonaMessages(persona, [{ role: "user", content: "Hello" }]));
 * // system "You are Ada.", assistant "Hi Sam!", user "Hello"
 * ```
 */
export function buildPersonaMessages(
  persona: Pick<Persona, "name" | "system_prompt" | "first_message" | "char_name" | "user_name">,
  history: ChatMessage[],
  options: PersonaMessageOptions = {},
): ChatMessage[] {
  const names = {
    char: persona.char_name ?? persona.name,
    user: options.userName ?? persona.user_name ?? "User",
  };
  const out: ChatMessage[] = [];
  if (persona.system_prompt?.trim()) {
    out.push({ role: "system", content: substituteMacros(persona.system_prompt, names) });
  }
  let i = 0;
  while (i < history.length && history[i].role === "system") out.push(history[i++]);
  if (persona.first_message && history[i]?.role !== "assistant") {
    out.push({ role: "assistant", content: substituteMacros(persona.first_message, names) });
  }
  out.push(...history.slice(i));
  return out;
}
