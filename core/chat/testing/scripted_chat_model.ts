/**
 * A deterministic ChatModel for tests: replies come from a script function (default: an echo of
 * the last user message), tokens are words, and every OpenAI knob it receives (`max_tokens`,
 * `stop`, `n`, `logprobs`, `top_logprobs`) acts in a predictable way. It records every request and
 * every abort it sees, and can pause a stream until the caller aborts.
 *
 * @module
 */

import type {
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
  FinishReason,
  TokenLogprob,
} from "../../contracts/chat_model.ts";
import { splitPieces } from "../chunks.ts";

/** Options of {@link ScriptedChatModel}. */
export interface ScriptedChatModelOptions {
  /** The model id (default `scripted`). */
  id?: string;
  /** The full reply text for choice `index` (before `max_tokens` / `stop` cut it). */
  reply?: (request: ChatRequest, index: number) => string;
  /** Returns an error to throw for call number `call` (1-based), or undefined to answer. */
  fail?: (request: ChatRequest, call: number) => Error | undefined;
  /** In streams, after this many content chunks wait until the request's signal aborts. */
  pauseAfterChunks?: number;
}

/**
 * The logprob the double gives token `i` of a choice: a fixed, easily recomputed value.
 *
 * @example
 * ```ts
 * import { scriptedLogprob } from "./scripted_chat_model.ts";
 * console.log(scriptedLogprob(0), scriptedLogprob(11)); // -0.1 -0.2
 * ```
 */
export function scriptedLogprob(i: number): number {
  return -((i % 10) + 1) / 10;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("aborted", "AbortError");
}

/**
 * A scripted, deterministic ChatModel.
 *
 * @example
 * ```ts
 * import { ScriptedChatModel } from "./scripted_chat_model.ts";
 * const model = new ScriptedChatModel({ reply: () => "one two three" });
 * const r = await model.chat({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
 * console.log(r.choices[0].message.content, r.choices[0].finish_reason); // "one two" "length"
 * ```
 */
export class ScriptedChatModel implements ChatModel {
  readonly id: string;
  /** Every request received, in order. */
  readonly calls: ChatRequest[] = [];
  #options: ScriptedChatModelOptions;
  #aborts = 0;
  #abortWaiters: (() => void)[] = [];

  constructor(options: ScriptedChatModelOptions = {}) {
    this.#options = options;
    this.id = options.id ?? "scripted";
  }

  /** How many requests were aborted while this model was working on them. */
  get aborts(): number {
    return this.#aborts;
  }

  /** Resolves once at least `count` aborts have been seen. */
  whenAborted(count = 1): Promise<void> {
    if (this.#aborts >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.#aborts >= count) resolve();
        else this.#abortWaiters.push(check);
      };
      this.#abortWaiters.push(check);
    });
  }

  #noteAbort(): void {
    this.#aborts++;
    const waiters = this.#abortWaiters.splice(0);
    for (const w of waiters) w();
  }

  #begin(request: ChatRequest): void {
    this.calls.push(request);
    const error = this.#options.fail?.(request, this.calls.length);
    if (error) throw error;
    if (request.signal?.aborted) {
      this.#noteAbort();
      throw abortError(request.signal);
    }
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    this.#begin(request);
    await Promise.resolve();
    return this.#respond(request, this.calls.length);
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    this.#begin(request);
    const r = this.#respond(request, this.calls.length);
    const base = { id: r.id, model: r.model, created: r.created };
    let content = 0;
    for (const choice of r.choices) {
      const { index } = choice;
      yield { ...base, choices: [{ index, delta: { role: "assistant" }, finish_reason: null }] };
      const tokens = this.#tokens(request, choice.message.content);
      for (const [i, token] of tokens.entries()) {
        if (
          this.#options.pauseAfterChunks !== undefined && content >= this.#options.pauseAfterChunks
        ) {
          await this.#waitForAbort(request.signal);
        }
        await Promise.resolve();
        if (request.signal?.aborted) {
          this.#noteAbort();
          throw abortError(request.signal);
        }
        content++;
        yield {
          ...base,
          choices: [{
            index,
            delta: { content: token },
            finish_reason: null,
            ...(choice.logprobs ? { logprobs: { content: [choice.logprobs.content[i]] } } : {}),
          }],
        };
      }
      yield { ...base, choices: [{ index, delta: {}, finish_reason: choice.finish_reason }] };
    }
    yield { ...base, choices: [], usage: r.usage };
  }

  #waitForAbort(signal: AbortSignal | undefined): Promise<void> {
    if (!signal) {
      throw new TypeError("ScriptedChatModel: pauseAfterChunks needs a request signal to resume");
    }
    return new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  #tokens(request: ChatRequest, text: string): string[] {
    return splitPieces(text).slice(0, request.max_tokens ?? Infinity);
  }

  #respond(request: ChatRequest, call: number): ChatResponse {
    const n = request.n ?? 1;
    const choices = [];
    let completion = 0;
    for (let index = 0; index < n; index++) {
      let text = (this.#options.reply ?? defaultReply)(request, index);
      let finish: FinishReason = "stop";
      const stops = request.stop === undefined
        ? []
        : Array.isArray(request.stop)
        ? request.stop
        : [request.stop];
      for (const stop of stops) {
        const at = text.indexOf(stop);
        if (stop && at >= 0) text = text.slice(0, at);
      }
      let tokens = splitPieces(text);
      if (request.max_tokens !== undefined && tokens.length > request.max_tokens) {
        tokens = tokens.slice(0, request.max_tokens);
        finish = "length";
      }
      completion += tokens.length;
      const logprobs = request.logprobs
        ? {
          content: tokens.map((token, i): TokenLogprob => ({
            token,
            logprob: scriptedLogprob(i),
            top_logprobs: Array.from({ length: request.top_logprobs ?? 0 }, (_, k) => ({
              token: k === 0 ? token : `alt${k}`,
              logprob: scriptedLogprob(i) - k,
            })),
          })),
        }
        : undefined;
      choices.push({
        index,
        message: { role: "assistant" as const, content: tokens.join("") },
        finish_reason: finish,
        ...(logprobs ? { logprobs } : {}),
      });
    }
    const prompt = request.messages.reduce((s, m) => s + splitPieces(m.content).length, 0);
    return {
      id: `chatcmpl-${this.id}-${call}`,
      model: request.model ?? this.id,
      created: 1_700_000_000 + call,
      choices,
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
      },
    };
  }
}

function defaultReply(request: ChatRequest, index: number): string {
  const last = request.messages.findLast((m) => m.role === "user")?.content ?? "";
  if (request.response_format && request.response_format.type !== "text") {
    return JSON.stringify({ echo: last, choice: index });
  }
  return index === 0 ? `echo: ${last}` : `echo ${index}: ${last}`;
}
