/**
 * Renders a conversation with the model's chat template once, tokenizes that text once (exactly
 * the ids `apply_chat_template(messages, tokenize=True)` gives), and derives the loss mask from
 * the assistant spans, with the semantics of transformers' `return_assistant_tokens_mask`: a
 * token carries loss when the assistant produced it — the reply and the end-of-turn token that
 * ends it; system and user turns and the template scaffolding around each reply get label -100.
 *
 * Training therefore sees the very tokens inference sees: a SentencePiece tokenizer does not add
 * a second `▁` at the start of a separately tokenized reply, and a merge across a turn boundary
 * is the same merge inference makes.
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
  /** Ids that end a turn; with `decode`, a reply span ends right after the first one. */
  readonly eosTokenIds?: readonly number[];
  decode?(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
}

/** One training example: token ids and unshifted labels (-100 = no loss). */
export interface TokenizedExample {
  inputIds: number[];
  labels: number[];
  /** The conversation's `identities` (per-row adapter inputs such as hirpf masks), if any. */
  identities?: string[];
}

/** A character span of the rendered conversation that the assistant produced. */
export interface AssistantSpan {
  /** Index of the message in the conversation. */
  message: number;
  /** First character (where the generation prompt before the reply ends). */
  start: number;
  /** One past the last character (after the reply's end-of-turn token). */
  end: number;
}

function prefixError(what: string): Error {
  return withCode(
    new RangeError(
      `the chat template does not render ${what} as a prefix of the whole conversation, so reply tokens cannot be located; use a template whose rendering of earlier turns does not change`,
    ),
    "E_DATA",
  );
}

/**
 * The character spans of the assistant replies in `render(messages)`. A reply starts where
 * `render(messages before it, add_generation_prompt)` ends (that must be a prefix of the whole
 * rendering: it is the prompt inference sends); it ends where `render(messages through it)`
 * ends, or, when the template renders a last turn differently from history (Qwen3's empty
 * reasoning block), at its first end-of-turn token. A span is cut right after its first
 * end-of-turn token, so template text after it (e.g. a newline) is not trained.
 *
 * @example
 * ```ts ignore
 * import { assistantSpans } from "./chat_tokenize.ts";
 * const spans = assistantSpans(tok, messages, tok.applyChatTemplate(messages));
 * ```
 */
export function assistantSpans(
  tok: ChatTokenizerLike,
  messages: ChatMessage[],
  full: string,
): AssistantSpan[] {
  const eosTexts = tok.decode && tok.eosTokenIds
    ? [...new Set(tok.eosTokenIds.map((id) => tok.decode!([id])))].filter((t) => t !== "")
    : [];
  const firstEos = (from: number, to: number): number => {
    let best = -1;
    for (const t of eosTexts) {
      const i = full.indexOf(t, from);
      if (i >= 0 && i + t.length <= to && (best < 0 || i + t.length < best)) best = i + t.length;
    }
    return best;
  };
  const spans: AssistantSpan[] = [];
  let done = 0;
  messages.forEach((m, i) => {
    if (m.role !== "assistant") return;
    const prompt = tok.applyChatTemplate(messages.slice(0, i), { addGenerationPrompt: true });
    if (!full.startsWith(prompt) || prompt.length < done) {
      throw prefixError(`the prompt before reply ${i}`);
    }
    const through = tok.applyChatTemplate(messages.slice(0, i + 1), {
      addGenerationPrompt: false,
    });
    let end: number;
    if (full.startsWith(through)) {
      end = through.length;
      const cut = firstEos(prompt.length, end);
      if (cut > 0) end = cut;
    } else {
      end = firstEos(prompt.length, full.length);
      if (end < 0) throw prefixError(`turns 0..${i}`);
    }
    if (end <= prompt.length) throw prefixError(`reply ${i}`);
    spans.push({ message: i, start: prompt.length, end });
    done = end;
  });
  return spans;
}

/** Length of the common prefix of two id lists. */
function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let k = 0;
  while (k < n && a[k] === b[k]) k++;
  return k;
}

/**
 * Tokenizes one conversation: ids = the tokenization of the whole rendering (no special tokens
 * added: the template has them), labels = the ids inside assistant spans, -100 elsewhere. A
 * character position maps to the number of leading tokens that the rendering up to it shares
 * with the whole rendering, so a token that straddles the start of a reply belongs to the reply
 * and one that straddles its end does not.
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
  const full = tok.applyChatTemplate(messages, { addGenerationPrompt: false });
  const inputIds = tok.encode(full, { addSpecialTokens: false });
  const labels = new Array<number>(inputIds.length).fill(IGNORE_INDEX);
  const tokenAt = new Map<number, number>([[0, 0], [full.length, inputIds.length]]);
  const boundary = (pos: number): number => {
    let k = tokenAt.get(pos);
    if (k === undefined) {
      k = commonPrefix(tok.encode(full.slice(0, pos), { addSpecialTokens: false }), inputIds);
      tokenAt.set(pos, k);
    }
    return k;
  };
  for (const span of assistantSpans(tok, messages, full)) {
    const a = boundary(span.start);
    const b = boundary(span.end);
    for (let k = a; k < b; k++) labels[k] = inputIds[k];
  }
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
