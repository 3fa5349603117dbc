/**
 * `withConcurrency`: a ChatModel wrapper that lets at most N requests reach the inner model at
 * once and serves the rest first in, first out.
 *
 * @module
 */

import type { ChatChunk, ChatModel, ChatRequest, ChatResponse } from "../contracts/chat_model.ts";
import { FifoLimiter } from "./fifo_limiter.ts";

/** Options of {@link withConcurrency}. */
export interface ConcurrencyOptions {
  /** Most requests in flight at once. */
  limit: number;
  /** Most waiting requests; further ones fail with an `E_LIMIT` RangeError. Default unbounded. */
  maxQueue?: number;
}

/** A ChatModel with a concurrency limit; exposes its limiter for metrics. */
export interface LimitedChatModel extends ChatModel {
  readonly limiter: FifoLimiter;
}

/**
 * Wraps a ChatModel so that at most `limit` requests run at once. A stream holds its slot until
 * it ends or its consumer stops reading.
 *
 * @example
 * ```ts
 * import { withConcurrency } from "./with_concurrency.ts";
 * import { ScriptedChatModel } from "./testing/mod.ts";
 * const model = withConcurrency(new ScriptedChatModel(), { limit: 4 });
 * await Promise.all([1, 2, 3, 4, 5, 6].map((i) =>
 *   model.chat({ messages: [{ role: "user", content: `q${i}` }] })));
 * ```
 */
export function withConcurrency(inner: ChatModel, options: ConcurrencyOptions): LimitedChatModel {
  const limiter = new FifoLimiter(options);
  return {
    id: inner.id,
    limiter,
    chat(request: ChatRequest): Promise<ChatResponse> {
      return limiter.run(() => inner.chat(request), request.signal);
    },
    async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
      const release = await limiter.acquire(request.signal);
      try {
        yield* inner.stream(request);
      } finally {
        release();
      }
    },
  };
}
