/**
 * Over-long conversations cut to `maxLength` tokens instead of rejected, for the trainers'
 * `truncate` option. The released CoSER ShareGPT conversations run to thousands of tokens, and
 * some open with a system prompt alone longer than a small model's context (record 3 of
 * `sft_sharegpt.json`: a 19,443-character profile of King Lear), so keeping the beginning would
 * leave no reply to learn from. The cut keeps the LAST `maxLength` tokens (Hugging Face's
 * `truncation_side="left"`): the final reply always survives (trailing user turns are trimmed
 * before), the start of the system prompt may not. Every cut is counted and reported.
 *
 * @module
 */

import { IGNORE_INDEX } from "./loss_graph.ts";
import {
  type Conversation,
  dataError,
  type RecordSource,
  type SkippedRecord,
} from "./chat_data.ts";
import { type ChatTokenizerLike, tokenizeDataset, type TokenizedExample } from "./chat_tokenize.ts";

/** A conversation cut at the token limit. */
export interface TruncatedRecord {
  source: RecordSource;
  /** Tokens before the cut. */
  tokens: number;
}

/** Options of {@link tokenizeTruncating}. */
export interface TruncateOptions {
  maxLength: number;
  /** Cut over-long conversations (true) or leave them to `tokenizeDataset`'s rule (false). */
  truncate?: boolean;
  skipInvalid?: boolean;
}

/**
 * Tokenizes conversations; with `truncate`, keeps the last `maxLength` tokens of a longer one.
 *
 * @example
 * ```ts ignore
 * import { tokenizeTruncating } from "./truncate.ts";
 * const r = tokenizeTruncating(tok, conversations, { maxLength: 2048, truncate: true });
 * console.log(r.examples.length, r.truncated.length);
 * ```
 */
export function tokenizeTruncating(
  tok: ChatTokenizerLike,
  conversations: Conversation[],
  options: TruncateOptions,
): { examples: TokenizedExample[]; skipped: SkippedRecord[]; truncated: TruncatedRecord[] } {
  if (!options.truncate) {
    return { ...tokenizeDataset(tok, conversations, options), truncated: [] };
  }
  const { maxLength } = options;
  const full = tokenizeDataset(tok, conversations, {
    maxLength: Number.MAX_SAFE_INTEGER,
    skipInvalid: options.skipInvalid,
  });
  const skippedSources = new Set(full.skipped.map((k) => k.source));
  const kept = conversations.filter((c) => !skippedSources.has(c.source));
  const examples: TokenizedExample[] = [];
  const skipped = [...full.skipped];
  const truncated: TruncatedRecord[] = [];
  full.examples.forEach((ex, i) => {
    const source = kept[i].source;
    if (ex.inputIds.length <= maxLength) {
      examples.push(ex);
      return;
    }
    const cut = {
      ...ex,
      inputIds: ex.inputIds.slice(-maxLength),
      labels: ex.labels.slice(-maxLength),
    };
    if (!cut.labels.some((l) => l !== IGNORE_INDEX)) {
      const message = `the conversation is ${ex.inputIds.length} tokens and its last ` +
        `${maxLength} hold no reply token, so truncating leaves nothing to learn; raise max_length`;
      if (!options.skipInvalid) throw dataError(source, message);
      skipped.push({ source, reason: message, code: "too_long" });
      return;
    }
    examples.push(cut);
    truncated.push({ source, tokens: ex.inputIds.length });
  });
  return { examples, skipped, truncated };
}
