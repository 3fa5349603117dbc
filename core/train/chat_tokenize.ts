/**
 * Renders a conversation with the model's chat template and tokenizes it with a loss mask: only
 * assistant turns (their content and the template's end-of-turn tokens) carry loss; system and
 * user turns and the template scaffolding before each reply get label -100.
 *
 * @module
 */

import { withCode } from "../errors.ts";
import type { ChatMessage } from "../model/tokenizer.ts";
import { type Conversation, dataError, type SkippedRecord, withoutSource } from "./chat_data.ts";
import { IGNORE_INDEX } from "./loss_graph.ts";

/** What tokenization needs (a `ModelTokenizer` fits). */
export interface ChatTokenizerLike {
  applyChatTemplate(messages: ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
}

/** One training example: token ids and unshifted labels (-100 = no loss). */
export interface TokenizedExample {
  inputIds: number[];
  labels: number[];
  /** The conversation's `identities` (per-row adapter inputs such as hirpf masks), if any. */
  identities?: string[];
}

/**
 * Tokenizes one conversation. The rendered text is cut at the template's own boundaries:
 * `render(turns before reply i, add_generation_prompt)` ends where reply i starts and
 * `render(turns through reply i)` ends where it stops. Each piece is tokenized on its own, as
 * the prompt is at inference, and the reply pieces are labelled with their ids.
 *
 * @example
 * ```ts
 * import { tokenizeConversation } from "./chat_tokenize.ts";
 * import type { ChatTokenizerLike } from "./chat_tokenize.ts";
 * declare const tok: ChatTokenizerLike;
 * const ex = tokenizeConversation(tok, [
 *   { role: "user", content: "Hi" },
 *   { role: "assistant", content: "Hello!" },
 * ]);
 * console.log(ex.inputIds.length, ex.labels.filter((l) => l !== -100).length);
 * ```
 */
export function tokenizeConversation(
  tok: ChatTokenizerLike,
  messages: ChatMessage[],
): TokenizedExample {
  const inputIds: number[] = [];
  const labels: number[] = [];
  let done = "";
  const push = (text: string, train: boolean) => {
    if (text === "") return;
    const ids = tok.encode(text, { addSpecialTokens: false });
    for (const id of ids) {
      inputIds.push(id);
      labels.push(train ? id : IGNORE_INDEX);
    }
  };
  const prefixError = (what: string) =>
    withCode(
      new RangeError(
        `the chat template does not render ${what} as a prefix of the longer conversation, so reply tokens cannot be located; use a template whose rendering of earlier turns does not change (e.g. without history-dependent reasoning blocks)`,
      ),
      "E_DATA",
    );
  messages.forEach((m, i) => {
    if (m.role !== "assistant") return;
    const prompt = tok.applyChatTemplate(messages.slice(0, i), { addGenerationPrompt: true });
    const full = tok.applyChatTemplate(messages.slice(0, i + 1), { addGenerationPrompt: false });
    if (!prompt.startsWith(done)) throw prefixError(`turns 0..${i - 1}`);
    if (!full.startsWith(prompt)) throw prefixError(`the prompt before reply ${i}`);
    push(prompt.slice(done.length), false);
    push(full.slice(prompt.length), true);
    done = full;
  });
  return { inputIds, labels };
}

/** Options of {@link tokenizeDataset}. */
export interface TokenizeOptions {
  /** Longest allowed sequence in tokens. */
  maxLength: number;
  /** Skip (and count) conversations over the limit instead of throwing. Default false. */
  skipInvalid?: boolean;
}

/**
 * Tokenizes validated conversations; a conversation over `maxLength` tokens is an error naming
 * its file and line, or a counted skip with `skipInvalid`.
 *
 * @example
 * ```ts
 * import { tokenizeDataset } from "./chat_tokenize.ts";
 * import type { ChatTokenizerLike } from "./chat_tokenize.ts";
 * import type { Conversation } from "./chat_data.ts";
 * declare const tok: ChatTokenizerLike;
 * declare const convs: Conversation[];
 * const { examples, skipped } = tokenizeDataset(tok, convs, { maxLength: 512, skipInvalid: true });
 * console.log(examples.length, skipped.length);
 * ```
 */
export function tokenizeDataset(
  tok: ChatTokenizerLike,
  conversations: Conversation[],
  options: TokenizeOptions,
): { examples: TokenizedExample[]; skipped: SkippedRecord[] } {
  const { maxLength } = options;
  if (!Number.isInteger(maxLength) || maxLength < 2) {
    throw withCode(
      new RangeError(`maxLength is ${maxLength}; pass a whole number >= 2`),
      "E_CONFIG",
    );
  }
  const examples: TokenizedExample[] = [];
  const skipped: SkippedRecord[] = [];
  for (const c of conversations) {
    try {
      let ex: TokenizedExample;
      try {
        ex = tokenizeConversation(tok, c.messages);
      } catch (error) {
        throw dataError(c.source, (error as Error).message);
      }
      if (ex.inputIds.length > maxLength) {
        throw dataError(
          c.source,
          `the conversation is ${ex.inputIds.length} tokens, over maxLength ${maxLength}; raise maxLength, shorten the conversation, or set skipInvalid`,
        );
      }
      if (c.identities) ex.identities = c.identities.slice();
      examples.push(ex);
    } catch (error) {
      if (!options.skipInvalid) throw error;
      skipped.push({
        source: c.source,
        reason: withoutSource((error as Error).message, c.source),
        code: /over maxLength/.test((error as Error).message) ? "too_long" : "invalid",
      });
    }
  }
  return { examples, skipped };
}
