/**
 * The message history of one agent. Roles always alternate: appending a message whose role equals
 * the last one's joins the two with a blank line.
 *
 * @module
 */

import type { ChatMessage } from "../../core/contracts/chat_model.ts";

/** The user message that opens every agent's conversation. */
export const CONVERSATION_START = "===Conversation Start===\n\n";

/**
 * An agent's history: `[system, user: "===Conversation Start===\n\n", ...]`.
 *
 * @example
 * ```ts
 * import { AgentHistory } from "./history.ts";
 * const h = new AgentHistory("You are Tom.");
 * h.append("user", "Ada: Where is it?");
 * h.messages.length; // 2 — joined onto the opening user message
 * ```
 */
export class AgentHistory {
  readonly #messages: ChatMessage[];

  constructor(systemPrompt: string) {
    this.#messages = [
      { role: "system", content: systemPrompt },
      { role: "user", content: CONVERSATION_START },
    ];
  }

  /** A copy of the stored messages. */
  get messages(): ChatMessage[] {
    return this.#messages.map((m) => ({ ...m }));
  }

  /** The system prompt. */
  get systemPrompt(): string {
    return this.#messages[0].content;
  }

  /** Appends a message, joining it to the last one with `\n\n` when the roles match. */
  append(role: "user" | "assistant", content: string): void {
    const last = this.#messages[this.#messages.length - 1];
    if (last.role === role) last.content += "\n\n" + content;
    else this.#messages.push({ role, content });
  }

  /**
   * The messages to send. With `systemAsUser` (models that reject system messages, e.g.
   * `claude*`, `o1*`) the system prompt goes as a user message, joined to the following one so
   * roles still alternate. `system` replaces the stored system prompt for this call only.
   */
  request(options: { systemAsUser?: boolean; system?: string } = {}): ChatMessage[] {
    const msgs = this.messages;
    if (options.system !== undefined) msgs[0].content = options.system;
    if (!options.systemAsUser) return msgs;
    const out: ChatMessage[] = [];
    for (const m of msgs) {
      const role = m.role === "system" ? "user" : m.role;
      const last = out[out.length - 1];
      if (last && last.role === role) last.content += "\n\n" + m.content;
      else out.push({ ...m, role });
    }
    return out;
  }
}
