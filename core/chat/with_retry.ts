/**
 * `withRetry`: a ChatModel wrapper that retries transient failures (HTTP 408, 409, 429 and 5xx,
 * connection errors, its own per-attempt timeouts) with exponential backoff and full jitter,
 * waiting at least as long as a server's `retry-after` / `retry-after-ms` header asks.
 *
 * @module
 */

import type { ChatChunk, ChatModel, ChatRequest, ChatResponse } from "../contracts/chat_model.ts";
import { withCode } from "../errors.ts";

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** Backoff scale: retry k waits up to `baseDelayMs * 2^k` (default 500). */
  baseDelayMs?: number;
  /** Upper bound of the backoff (default 30 000). */
  maxDelayMs?: number;
  /** Upper bound on a `retry-after` the wrapper honours (default 120 000). */
  maxRetryAfterMs?: number;
  /** Per-attempt time limit; for streams, the longest wait for the next chunk. Default none. */
  timeoutMs?: number;
  /** Jitter source in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Waits `ms` unless `signal` aborts (injectable for tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each retry. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

interface HttpLikeError {
  status?: unknown;
  headers?: unknown;
  code?: unknown;
  name?: unknown;
}

function header(error: HttpLikeError, name: string): string | null {
  const h = error.headers;
  if (h instanceof Headers) return h.get(name);
  if (h && typeof h === "object") {
    const v = (h as Record<string, unknown>)[name];
    return typeof v === "string" ? v : null;
  }
  return null;
}

/**
 * The wait a failed response asks for, from `retry-after-ms` or `retry-after` (seconds or an
 * HTTP date), or undefined.
 *
 * @example
 * ```ts
 * import { retryAfterMs } from "./with_retry.ts";
 * console.log(retryAfterMs({ status: 429, headers: new Headers({ "retry-after": "2" }) })); // 2000
 * ```
 */
export function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  if (!error || typeof error !== "object") return undefined;
  const ms = Number(header(error as HttpLikeError, "retry-after-ms"));
  if (header(error as HttpLikeError, "retry-after-ms") !== null && Number.isFinite(ms) && ms >= 0) {
    return ms;
  }
  const raw = header(error as HttpLikeError, "retry-after");
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (raw.trim() !== "" && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Whether an error is worth retrying: HTTP 408, 409, 429 (except `insufficient_quota`) or 5xx,
 * a connection error of the `openai` client, or a timeout.
 *
 * @example
 * ```ts
 * import { isRetryable } from "./with_retry.ts";
 * console.log(isRetryable({ status: 503 }), isRetryable({ status: 400 })); // true false
 * ```
 */
export function isRetryable(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const e = error as HttpLikeError;
  if (
    e.name === "TimeoutError" || e.name === "APIConnectionError" ||
    e.name === "APIConnectionTimeoutError"
  ) {
    return true;
  }
  if (typeof e.status !== "number") return false;
  if (e.status === 429 && e.code === "insufficient_quota") return false;
  return e.status === 408 || e.status === 409 || e.status === 429 || e.status >= 500;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A per-attempt deadline that can be pushed back (streams reset it on every chunk). */
class Deadline {
  readonly controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ms: number | undefined;
  #onOuter = () => this.controller.abort(this.outer!.reason);

  constructor(readonly outer: AbortSignal | undefined, ms: number | undefined) {
    this.#ms = ms;
    if (outer?.aborted) this.controller.abort(outer.reason);
    outer?.addEventListener("abort", this.#onOuter, { once: true });
    this.reset();
  }

  get timedOut(): boolean {
    return this.controller.signal.aborted && !this.outer?.aborted;
  }

  reset(): void {
    if (this.#ms === undefined) return;
    clearTimeout(this.#timer);
    const ms = this.#ms;
    this.#timer = setTimeout(() => {
      const error = withCode(
        new Error(`the attempt got no answer within timeoutMs ${ms}; it will be retried`),
        "E_LIMIT",
      );
      error.name = "TimeoutError";
      this.controller.abort(error);
    }, ms);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.outer?.removeEventListener("abort", this.#onOuter);
  }
}

/**
 * Wraps a ChatModel with retries. A stream is retried only until its first chunk has been passed
 * on; after that a failure propagates, since the consumer has already seen part of the answer.
 * The caller's own abort is never retried.
 *
 * @example
 * ```ts
 * import { withRetry } from "./with_retry.ts";
 * import { OpenAIChatModel } from "./openai_chat_model.ts";
 * const model = withRetry(new OpenAIChatModel({ model: "gpt-4o-mini" }), { retries: 4, timeoutMs: 60_000 });
 * ```
 */
export function withRetry(inner: ChatModel, options: RetryOptions = {}): ChatModel {
  const retries = options.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0) {
    throw withCode(new RangeError(`retries is ${retries}; pass a whole number >= 0`), "E_CONFIG");
  }
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 30_000;
  const maxAfter = options.maxRetryAfterMs ?? 120_000;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;

  /** Decides whether to retry after `error`; waits and returns true, or returns false. */
  async function backoff(attempt: number, error: unknown, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted || attempt >= retries || !isRetryable(error)) return false;
    const jitter = random() * Math.min(cap, base * 2 ** attempt);
    const after = retryAfterMs(error);
    const delayMs = after === undefined ? jitter : Math.max(Math.min(after, maxAfter), jitter);
    options.onRetry?.({ attempt: attempt + 1, delayMs, error });
    await sleep(delayMs, signal);
    return true;
  }

  function failure(deadline: Deadline, error: unknown): unknown {
    return deadline.timedOut ? deadline.controller.signal.reason : error;
  }

  return {
    id: inner.id,
    async chat(request: ChatRequest): Promise<ChatResponse> {
      for (let attempt = 0;; attempt++) {
        const deadline = new Deadline(request.signal, options.timeoutMs);
        let error: unknown;
        try {
          return await inner.chat({ ...request, signal: deadline.controller.signal });
        } catch (e) {
          error = failure(deadline, e);
        } finally {
          deadline.dispose();
        }
        if (!(await backoff(attempt, error, request.signal))) throw error;
      }
    },
    async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
      for (let attempt = 0;; attempt++) {
        const deadline = new Deadline(request.signal, options.timeoutMs);
        let started = false;
        let error: unknown;
        try {
          for await (
            const chunk of inner.stream({ ...request, signal: deadline.controller.signal })
          ) {
            started = true;
            yield chunk;
            deadline.reset();
          }
          return;
        } catch (e) {
          error = failure(deadline, e);
          if (started) throw error;
        } finally {
          deadline.dispose();
        }
        if (!(await backoff(attempt, error, request.signal))) throw error;
      }
    },
  };
}
