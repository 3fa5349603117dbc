/**
 * The `POST /v1/chat/completions` handler: validation and limits, a fair queue in front of the
 * backends, a time limit, and abort propagation (a client that disconnects aborts its generation).
 *
 * @module
 */

import type { ChatChunk, ChatMessage, ChatModel, ChatRequest } from "../../contracts/chat_model.ts";
import type { RequestExtension } from "../../contracts/request_extension.ts";
import { errorCode } from "../../errors.ts";
import type { FifoLimiter } from "../../chat/fifo_limiter.ts";
import { readJsonLimited } from "./body.ts";
import { compileOffThread } from "../../model/constraint/compile_off_thread.ts";
import { HttpError, toHttpError } from "./http_error.ts";
import type { ServerMetrics } from "./metrics.ts";
import { toWireChunk, toWireCompletion } from "./openai_shapes.ts";
import { parseChatCompletionBody, toChatRequest } from "./request_schema.ts";

/** Limits the server enforces. */
export interface ServerLimits {
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes: number;
  /** Largest `max_tokens` a request may ask for (default 4096). */
  maxTokens: number;
  /** `max_tokens` when a request gives none (default 512, capped at `maxTokens`). */
  defaultMaxTokens: number;
  /**
   * Prompt plus `max_tokens` must fit here (default: the model's own context window when it
   * reports one, see {@link ContextAware}; else no check).
   */
  maxContextTokens?: number;
  /** Largest `n` (default 8). */
  maxN: number;
  /** Whole-request time limit, queue wait included, in ms (default 120 000). */
  requestTimeoutMs: number;
  /** Generations running at once (default 4). */
  maxConcurrent: number;
  /** Requests waiting for a slot before new ones get 429 (default 64). */
  maxQueue: number;
}

/**
 * Defaults of {@link ServerLimits}.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS } from "./completions.ts";
 * console.log(DEFAULT_LIMITS.maxConcurrent); // 4
 * ```
 */
export const DEFAULT_LIMITS: ServerLimits = {
  maxBodyBytes: 1 << 20,
  maxTokens: 4096,
  defaultMaxTokens: 512,
  maxN: 8,
  requestTimeoutMs: 120_000,
  maxConcurrent: 4,
  maxQueue: 64,
};

/**
 * A prompt-length estimate for the context check when no tokenizer is plugged in: UTF-8 bytes
 * over 4 plus 4 per message, near what BPE tokenizers give for English.
 *
 * @example
 * ```ts
 * import { estimateTokens } from "./completions.ts";
 * console.log(estimateTokens([{ role: "user", content: "12345678" }])); // 6
 * ```
 */
export function estimateTokens(messages: ChatMessage[]): number {
  const enc = new TextEncoder();
  return messages.reduce((s, m) => s + 4 + Math.ceil(enc.encode(m.content).length / 4), 0);
}

/**
 * What a ChatModel may tell the server about its context window (LocalChatModel and
 * PersonaChatModel do): the window in tokens and an exact prompt count with the chat template.
 */
export interface ContextAware {
  contextWindow?(): number | undefined;
  countPromptTokens?(messages: ChatMessage[]): number | Promise<number> | undefined;
}

/** What the handler needs from the app. */
export interface CompletionsContext {
  resolve(model: string): ChatModel | undefined | Promise<ChatModel | undefined>;
  limits: ServerLimits;
  limiter: FifoLimiter;
  metrics: ServerMetrics;
  systemFingerprint: string;
  countTokens(messages: ChatMessage[], model: string): number | Promise<number>;
  /** Live jobs, so a shutdown can abort them. */
  jobs: Set<Job>;
  checkRequest?: (request: ChatRequest, model: string) => void | Promise<void>;
  /** The request extensions bodies may carry (those of the loaded plugins). */
  requestExtensions?: readonly RequestExtension[];
  /** The client-facing form of an error (5xx details are logged, not sent). */
  publish: (error: unknown, request: Request) => HttpError;
}

/**
 * One request's abort state: client gone, time limit, or server shutdown.
 *
 * @example
 * ```ts
 * import { Job } from "./completions.ts";
 * import { ServerMetrics } from "./metrics.ts";
 * const job = new Job(new AbortController().signal, 1000, new ServerMetrics(() => ({ queued: 0, inFlight: 0 })), new Set());
 * job.dispose();
 * ```
 */
export class Job {
  readonly controller = new AbortController();
  clientGone = false;
  timedOut = false;
  #done = false;
  #timer: ReturnType<typeof setTimeout>;
  #client: AbortSignal;
  #onClient = () => this.disconnect();
  #metrics: ServerMetrics;
  #jobs: Set<Job>;

  constructor(client: AbortSignal, timeoutMs: number, metrics: ServerMetrics, jobs: Set<Job>) {
    this.#client = client;
    this.#metrics = metrics;
    this.#jobs = jobs;
    jobs.add(this);
    client.addEventListener("abort", this.#onClient, { once: true });
    this.#timer = setTimeout(() => {
      if (this.#done || this.controller.signal.aborted) return;
      this.timedOut = true;
      metrics.timeout();
      const e = new DOMException(
        `the request ran past the time limit of ${timeoutMs} ms`,
        "TimeoutError",
      );
      this.controller.abort(e);
    }, timeoutMs);
    if (client.aborted) this.disconnect();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Settles with `work`, or rejects with the abort reason as soon as the job is aborted, so a
   * backend that ignores its signal cannot hold the caller (and its slot) past the limit.
   */
  guard<T>(work: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) {
      work.catch(() => {});
      return Promise.reject(signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** The client went away: abort the generation and count it. */
  disconnect(): void {
    if (this.#done || this.clientGone || this.controller.signal.aborted) return;
    this.clientGone = true;
    this.#metrics.clientAbort();
    this.controller.abort(new DOMException("the client disconnected", "AbortError"));
  }

  /** The error to report for a failure, given how the job ended. */
  failure(error: unknown): HttpError {
    if (this.timedOut) {
      return new HttpError(
        504,
        `${(this.signal.reason as Error).message}; ask for fewer tokens or retry`,
        {
          code: "timeout",
        },
      );
    }
    return toHttpError(error);
  }

  dispose(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#client.removeEventListener("abort", this.#onClient);
    this.#jobs.delete(this);
  }
}

async function checkLimits(
  ctx: CompletionsContext,
  request: ChatRequest,
  model: string,
  backend: ChatModel & ContextAware,
): Promise<void> {
  const { limits } = ctx;
  if ((request.n ?? 1) > limits.maxN) {
    throw new HttpError(400, `n is ${request.n}; this server allows at most ${limits.maxN}`, {
      param: "n",
      code: "invalid_value",
    });
  }
  if (request.max_tokens !== undefined && request.max_tokens > limits.maxTokens) {
    throw new HttpError(
      400,
      `max_tokens is ${request.max_tokens}; this server allows at most ${limits.maxTokens}`,
      { param: "max_tokens", code: "invalid_value" },
    );
  }
  if (request.top_logprobs && !request.logprobs) {
    throw new HttpError(400, "top_logprobs needs logprobs: true", {
      param: "top_logprobs",
      code: "invalid_value",
    });
  }
  const window = limits.maxContextTokens ?? backend.contextWindow?.();
  // A max_tokens the client asked for must fit with the prompt (as OpenAI checks it); without
  // one, the default shrinks to the room the prompt leaves.
  const asked = request.max_tokens !== undefined;
  request.max_tokens ??= Math.min(limits.defaultMaxTokens, limits.maxTokens);
  if (window === undefined) return;
  const wanted = asked ? request.max_tokens : 1;
  const tooLong = (total: string) =>
    new HttpError(
      400,
      `This model's maximum context length is ${window} tokens. However, you requested ` +
        `${total} tokens (the messages plus ${wanted} in max_tokens). Please reduce ` +
        "the length of the messages or max_tokens.",
      { param: "messages", code: "context_length_exceeded" },
    );
  if (wanted >= window) throw tooLong(`at least ${wanted + 1}`);
  // Before tokenizing (which costs time on a huge prompt): no tokenizer makes a token of more
  // than 64 bytes on average, so more bytes than that cannot fit.
  const bytes = request.messages.reduce((s, m) => s + encoder.encode(m.content).length, 0);
  const floor = Math.ceil(bytes / 64);
  if (floor + wanted > window) throw tooLong(`at least ${floor + wanted}`);
  const exact = await backend.countPromptTokens?.(request.messages);
  const prompt = exact ?? await ctx.countTokens(request.messages, model);
  if (prompt + wanted > window) throw tooLong(String(prompt + wanted));
  if (!asked) request.max_tokens = Math.min(request.max_tokens, window - prompt);
}

const encoder = new TextEncoder();
const sse = (value: unknown) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`);

/**
 * Handles one chat-completions request.
 *
 * @example
 * ```ts
 * // Used by createApp(); see app.ts.
 * import { handleCompletions } from "./completions.ts";
 * console.log(typeof handleCompletions);
 * ```
 */
export async function handleCompletions(raw: Request, ctx: CompletionsContext): Promise<Response> {
  // The time limit starts now, so it covers reading the body too.
  const job = new Job(raw.signal, ctx.limits.requestTimeoutMs, ctx.metrics, ctx.jobs);
  let release: () => void;
  let body: ReturnType<typeof parseChatCompletionBody>;
  let model: ChatModel & ContextAware;
  let request: ChatRequest;
  try {
    let json: unknown;
    try {
      json = await readJsonLimited(raw, ctx.limits.maxBodyBytes, job.signal);
    } catch (error) {
      if (!job.timedOut) throw error;
      throw new HttpError(
        408,
        `the request body did not arrive within the time limit of ${ctx.limits.requestTimeoutMs} ms`,
        { code: "request_timeout" },
      );
    }
    body = parseChatCompletionBody(json, ctx.requestExtensions);
    const found = await ctx.resolve(body.model);
    if (!found) {
      throw new HttpError(
        404,
        `the model '${
          body.model.slice(0, 80)
        }' does not exist; GET /v1/models lists the personas served`,
        {
          param: "model",
          code: "model_not_found",
        },
      );
    }
    model = found;
    request = toChatRequest(body);
    await checkLimits(ctx, request, body.model, model);
    await ctx.checkRequest?.(request, body.model);
    // Compile the constraint under its budget in a Worker before taking a slot: a hostile
    // pattern is a 400 naming the limit, and the event loop never blocks on it.
    await job.guard(compileOffThread(request, {}, job.signal));
  } catch (error) {
    job.dispose();
    throw job.failure(error);
  }
  try {
    release = await ctx.limiter.acquire(job.signal);
  } catch (error) {
    job.dispose();
    if (errorCode(error) === "E_LIMIT") {
      throw new HttpError(429, (error as Error).message, {
        code: "queue_full",
        headers: { "retry-after": "1" },
      });
    }
    throw job.failure(error);
  }
  const wire = { model: body.model, systemFingerprint: ctx.systemFingerprint };
  const live = { ...request, signal: job.signal };

  if (!body.stream) {
    try {
      // Work that ignores the abort still gives its slot back at the time limit.
      const response = await job.guard(model.chat(live));
      ctx.metrics.tokens(response.usage.prompt_tokens, response.usage.completion_tokens);
      return Response.json(toWireCompletion(response, wire));
    } catch (error) {
      throw job.failure(error);
    } finally {
      release();
      job.dispose();
    }
  }

  const started = performance.now();
  const includeUsage = body.stream_options?.include_usage === true;
  const id = `chatcmpl-${crypto.randomUUID()}`;
  let iterator: AsyncIterator<ChatChunk>;
  let first: IteratorResult<ChatChunk>;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    release();
    job.dispose();
    ctx.metrics.streamDone((performance.now() - started) / 1000);
  };
  try {
    // The first chunk is awaited before the headers go out, so an immediate failure is an HTTP
    // error with its proper status rather than an error event inside a 200 stream.
    iterator = model.stream(live)[Symbol.asyncIterator]();
    first = await job.guard(iterator.next());
  } catch (error) {
    finish();
    throw job.failure(error);
  }
  /** Sends a chunk; false when there was nothing to send (a usage-only chunk nobody asked for). */
  const emit = (chunk: ChatChunk, controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (chunk.usage) ctx.metrics.tokens(chunk.usage.prompt_tokens, chunk.usage.completion_tokens);
    if (chunk.choices.length === 0 && !includeUsage) return false;
    controller.enqueue(sse(toWireChunk(chunk, { ...wire, id, includeUsage })));
    return true;
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done) {
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
        finish();
      } else emit(first.value, controller);
    },
    async pull(controller) {
      try {
        // A pull must enqueue something or the stream is never pulled again.
        for (;;) {
          const next = await job.guard(iterator.next());
          if (next.done) {
            controller.enqueue(encoder.encode("data: [DONE]\n\n"));
            controller.close();
            finish();
            return;
          }
          if (emit(next.value, controller)) return;
        }
      } catch (error) {
        try {
          if (!job.clientGone) {
            controller.enqueue(sse(ctx.publish(job.failure(error), raw).body()));
            controller.close();
          }
        } catch { /* the stream was cancelled meanwhile */ }
        finish();
      }
    },
    cancel() {
      job.disconnect();
      iterator.return?.().catch(() => {});
      finish();
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
