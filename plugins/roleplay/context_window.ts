/**
 * Keeps a chat-API inquirer's history inside its context window by dropping the oldest
 * user/assistant pairs after the system message.
 *
 * @module
 */

import type { ChatMessage } from "../../core/contracts/chat_model.ts";

/** Counts the tokens of a text; inject the target model's tokenizer when exactness matters. */
export type TokenCounter = (text: string) => number;

/**
 * A tokenizer-free estimate: about four characters per token, never below the word count.
 *
 * @example
 * ```ts
 * import { approxTokenCount } from "./context_window.ts";
 * approxTokenCount("hello world"); // 3
 * ```
 */
export function approxTokenCount(text: string): number {
  const words = text.split(/\s+/).filter((w) => w !== "").length;
  return Math.max(words, Math.ceil(text.length / 4));
}

/**
 * Returns the messages to send: when `tokens(all) + maxNewTokens > contextLength`, whole pairs
 * after the first (system) message are removed oldest first until the excess is covered. The
 * system message and the final (current) message are always kept, so the result may still be too
 * long when those two alone exceed the window. The input array is not modified.
 *
 * @example
 * ```ts
 * import { trimContext } from "./context_window.ts";
 * const msgs = [
 *   { role: "system" as const, content: "s" },
 *   { role: "user" as const, content: "old question" },
 *   { role: "assistant" as const, content: "old answer" },
 *   { role: "user" as const, content: "new question" },
 * ];
 * trimContext(msgs, (t) => t.length, 0, 14).length; // 2: system + new question
 * ```
 */
export function trimContext(
  messages: readonly ChatMessage[],
  countTokens: TokenCounter,
  maxNewTokens: number,
  contextLength: number,
): ChatMessage[] {
  if (!(contextLength > 0)) {
    throw new RangeError(`contextLength is ${contextLength}; pass a positive token count`);
  }
  const sizes = messages.map((m) => countTokens(m.content));
  let excess = sizes.reduce((a, b) => a + b, 0) + maxNewTokens - contextLength;
  if (excess <= 0) return messages.slice();
  let end = 1; // messages[1..end) are dropped
  while (excess > 0 && end + 1 < messages.length - 1) {
    excess -= sizes[end] + sizes[end + 1];
    end += 2;
  }
  return [messages[0], ...messages.slice(end)];
}
