/**
 * Converting between a full chat response and the chunks of a stream, so that a wrapper holding a
 * full response (a cache hit, a non-streaming backend) can stream it, and a wrapper that sees a
 * stream (a cache fill, the ledger) can rebuild the full response.
 *
 * @module
 */

import type {
  ChatChoice,
  ChatChunk,
  ChatResponse,
  FinishReason,
  TokenLogprob,
  Usage,
} from "../contracts/chat_model.ts";

/**
 * Splits text into stream pieces: one piece per word with its leading whitespace, so that the
 * pieces concatenate back to the text exactly.
 *
 * @example
 * ```ts
 * import { splitPieces } from "./chunks.ts";
 * console.log(splitPieces("Hello, big world ")); // ["Hello,", " big", " world", " "]
 * ```
 */
export function splitPieces(text: string): string[] {
  const pieces = text.match(/\s*\S+|\s+$/g) ?? [];
  return pieces.length ? pieces : text ? [text] : [];
}

/**
 * Streams a full response: for each choice a role chunk, one chunk per logprob token (or per word
 * when there are no logprobs), a chunk with the finish reason; then a final usage chunk with no
 * choices, as OpenAI sends with `stream_options.include_usage`.
 *
 * @example
 * ```ts
 * import { responseToChunks } from "./chunks.ts";
 * const chunks = responseToChunks({ id: "x", model: "m", created: 0, usage:
 *   { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }, choices: [{ index: 0,
 *   finish_reason: "stop", message: { role: "assistant", content: "hi there" } }] });
 * console.log(chunks.length); // 5
 * ```
 */
export function responseToChunks(response: ChatResponse): ChatChunk[] {
  const base = { id: response.id, model: response.model, created: response.created };
  const out: ChatChunk[] = [];
  for (const choice of response.choices) {
    const { index } = choice;
    out.push({ ...base, choices: [{ index, delta: { role: "assistant" }, finish_reason: null }] });
    const tokens = choice.logprobs?.content;
    if (tokens?.length && tokens.map((t) => t.token).join("") === choice.message.content) {
      for (const t of tokens) {
        out.push({
          ...base,
          choices: [{
            index,
            delta: { content: t.token },
            finish_reason: null,
            logprobs: { content: [t] },
          }],
        });
      }
    } else {
      for (const piece of splitPieces(choice.message.content)) {
        out.push({ ...base, choices: [{ index, delta: { content: piece }, finish_reason: null }] });
      }
    }
    out.push({ ...base, choices: [{ index, delta: {}, finish_reason: choice.finish_reason }] });
  }
  out.push({ ...base, choices: [], usage: { ...response.usage } });
  return out;
}

/**
 * Rebuilds a full response from stream chunks: content and logprobs concatenated per choice
 * index, the last finish reason, the last usage seen (zeros when the stream carried none).
 *
 * @example
 * ```ts
 * import { collectChunks, responseToChunks } from "./chunks.ts";
 * const r = { id: "x", model: "m", created: 0, usage: { prompt_tokens: 1, completion_tokens: 2,
 *   total_tokens: 3 }, choices: [{ index: 0, finish_reason: "stop" as const,
 *   message: { role: "assistant" as const, content: "hi there" } }] };
 * console.log(collectChunks(responseToChunks(r)).choices[0].message.content); // "hi there"
 * ```
 */
export function collectChunks(chunks: Iterable<ChatChunk>): ChatResponse {
  const builder = new ChunkCollector();
  for (const chunk of chunks) builder.add(chunk);
  return builder.response();
}

/**
 * Accumulates chunks one at a time (for wrappers that pass a stream through while recording it).
 *
 * @example
 * ```ts
 * import { ChunkCollector } from "./chunks.ts";
 * const c = new ChunkCollector();
 * c.add({ id: "x", model: "m", created: 0, choices: [{ index: 0, delta: { content: "hi" },
 *   finish_reason: "stop" }] });
 * console.log(c.response().choices[0].message.content); // "hi"
 * ```
 */
export class ChunkCollector {
  #id = "";
  #model = "";
  #created = 0;
  #usage: Usage | undefined;
  #choices = new Map<
    number,
    { content: string; finish: FinishReason | null; logprobs: TokenLogprob[] | null }
  >();

  /** Adds one chunk. */
  add(chunk: ChatChunk): void {
    this.#id ||= chunk.id;
    this.#model ||= chunk.model;
    this.#created ||= chunk.created;
    if (chunk.usage) this.#usage = { ...chunk.usage };
    for (const c of chunk.choices) {
      let entry = this.#choices.get(c.index);
      if (!entry) this.#choices.set(c.index, entry = { content: "", finish: null, logprobs: null });
      entry.content += c.delta.content ?? "";
      if (c.finish_reason) entry.finish = c.finish_reason;
      if (c.logprobs?.content) (entry.logprobs ??= []).push(...c.logprobs.content);
    }
  }

  /** Whether any usage chunk was seen. */
  get hasUsage(): boolean {
    return this.#usage !== undefined;
  }

  /** The response assembled so far. */
  response(): ChatResponse {
    const choices: ChatChoice[] = [...this.#choices.entries()].sort((a, b) => a[0] - b[0]).map((
      [index, c],
    ) => ({
      index,
      message: { role: "assistant", content: c.content },
      finish_reason: c.finish ?? "stop",
      ...(c.logprobs ? { logprobs: { content: c.logprobs } } : {}),
    }));
    return {
      id: this.#id,
      model: this.#model,
      created: this.#created,
      choices,
      usage: this.#usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    };
  }
}
