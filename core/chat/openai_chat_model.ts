/**
 * `OpenAIChatModel`: a ChatModel over any OpenAI-compatible chat-completions endpoint (OpenAI,
 * vLLM, SGLang, TGI, or this project's own server) through the official `openai` client.
 *
 * @module
 */

import OpenAI from "openai";
import type {
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
  FinishReason,
  TokenLogprob,
} from "../contracts/chat_model.ts";
import { withCode } from "../errors.ts";

/** Options of {@link OpenAIChatModel}. */
export interface OpenAIChatModelOptions {
  /** Model sent when a request names none. */
  model?: string;
  /** Endpoint, e.g. `http://127.0.0.1:8000/v1`. Default `OPENAI_BASE_URL`, else OpenAI's API. */
  baseURL?: string;
  /** Bearer key. Default `OPENAI_API_KEY`; a custom `baseURL` without a key sends a placeholder. */
  apiKey?: string;
  /** Client-side timeout per HTTP request, ms (the SDK's default otherwise). */
  timeoutMs?: number;
  /** The SDK's own retries (default 0: compose with `withRetry`, which honours retry-after). */
  maxRetries?: number;
  /** Field for the completion length limit (OpenAI's reasoning models want the second). */
  maxTokensField?: "max_tokens" | "max_completion_tokens";
  /** Ask for a final usage chunk in streams (default true; turn off for servers that reject it). */
  streamUsage?: boolean;
  /** Custom fetch, passed to the SDK. */
  fetch?: typeof fetch;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

type WireLogprobs =
  | {
    content?: {
      token: string;
      logprob: number;
      top_logprobs?: { token: string; logprob: number }[];
    }[] | null;
  }
  | null
  | undefined;

function mapLogprobs(lp: WireLogprobs): { content: TokenLogprob[] } | null | undefined {
  if (lp === undefined) return undefined;
  if (lp === null || !lp.content) return null;
  return {
    content: lp.content.map((t) => ({
      token: t.token,
      logprob: t.logprob,
      top_logprobs: (t.top_logprobs ?? []).map((a) => ({ token: a.token, logprob: a.logprob })),
    })),
  };
}

function mapFinish(reason: string | null | undefined): FinishReason {
  // Tool and function calls end a turn too; this contract has no tool calls, so they read "stop".
  return reason === "length" || reason === "content_filter" ? reason : "stop";
}

/**
 * A ChatModel speaking the OpenAI chat-completions API. Dramatis extras (`steering`,
 * `identities`, `constraint`) and non-OpenAI sampling knobs (`top_k`, `repetition_penalty`) go
 * out as extra body fields only when set, so OpenAI itself never sees them and a Dramatis or
 * vLLM server does.
 *
 * @example
 * ```ts
 * import { OpenAIChatModel } from "./openai_chat_model.ts";
 * const model = new OpenAIChatModel({ baseURL: "http://127.0.0.1:8000/v1", model: "ada" });
 * const r = await model.chat({ messages: [{ role: "user", content: "Hello" }], seed: 1 });
 * console.log(r.choices[0].message.content);
 * ```
 */
export class OpenAIChatModel implements ChatModel {
  readonly id: string;
  #client: OpenAI;
  #options: OpenAIChatModelOptions;

  constructor(options: OpenAIChatModelOptions = {}) {
    this.#options = options;
    const baseURL = options.baseURL ?? env("OPENAI_BASE_URL");
    const apiKey = options.apiKey ?? env("OPENAI_API_KEY") ?? (baseURL ? "unused" : undefined);
    if (!apiKey) {
      throw withCode(
        new TypeError(
          "OpenAIChatModel: no API key (apiKey option and OPENAI_API_KEY are unset); set one, " +
            "or pass baseURL for a server that needs none",
        ),
        "E_CONFIG",
      );
    }
    this.#client = new OpenAI({
      apiKey,
      baseURL,
      maxRetries: options.maxRetries ?? 0,
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.id = `openai:${options.model ?? "*"}@${this.#client.baseURL}`;
  }

  /** The request body sent for a ChatRequest (exported for inspection and tests). */
  body(request: ChatRequest): Record<string, unknown> {
    const model = request.model ?? this.#options.model;
    if (!model) {
      throw withCode(
        new TypeError(
          "OpenAIChatModel: the request has no model and no default model was given; pass one",
        ),
        "E_CONFIG",
      );
    }
    const body: Record<string, unknown> = {
      model,
      messages: request.messages.map((m) => ({
        role: m.role,
        content: m.content,
        ...(m.name ? { name: m.name } : {}),
      })),
      [this.#options.maxTokensField ?? "max_tokens"]: request.max_tokens,
      temperature: request.temperature,
      top_p: request.top_p,
      seed: request.seed,
      stop: request.stop,
      n: request.n,
      logprobs: request.logprobs,
      top_logprobs: request.top_logprobs,
      response_format: request.response_format,
      top_k: request.top_k,
      repetition_penalty: request.repetition_penalty,
      constraint: request.constraint,
      steering: request.steering,
      identities: request.identities,
    };
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    return body;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const body = { ...this.body(request), stream: false };
    const r = await this.#client.chat.completions.create(
      body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
      { signal: request.signal },
    );
    return {
      id: r.id,
      model: r.model,
      created: r.created,
      choices: r.choices.map((c) => ({
        index: c.index,
        message: { role: "assistant", content: c.message.content ?? "" },
        finish_reason: mapFinish(c.finish_reason),
        ...(c.logprobs !== undefined ? { logprobs: mapLogprobs(c.logprobs) } : {}),
      })),
      usage: {
        prompt_tokens: r.usage?.prompt_tokens ?? 0,
        completion_tokens: r.usage?.completion_tokens ?? 0,
        total_tokens: r.usage?.total_tokens ?? 0,
      },
      ...(r.system_fingerprint ? { metadata: { system_fingerprint: r.system_fingerprint } } : {}),
    };
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    const body = {
      ...this.body(request),
      stream: true,
      ...(this.#options.streamUsage ?? true ? { stream_options: { include_usage: true } } : {}),
    };
    const stream = await this.#client.chat.completions.create(
      body as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming,
      { signal: request.signal },
    );
    for await (const c of stream) {
      yield {
        id: c.id,
        model: c.model,
        created: c.created,
        choices: c.choices.map((ch) => ({
          index: ch.index,
          delta: {
            ...(ch.delta?.role === "assistant" ? { role: "assistant" as const } : {}),
            ...(typeof ch.delta?.content === "string" ? { content: ch.delta.content } : {}),
          },
          finish_reason: ch.finish_reason ? mapFinish(ch.finish_reason) : null,
          ...(ch.logprobs !== undefined ? { logprobs: mapLogprobs(ch.logprobs) } : {}),
        })),
        ...(c.usage
          ? {
            usage: {
              prompt_tokens: c.usage.prompt_tokens,
              completion_tokens: c.usage.completion_tokens,
              total_tokens: c.usage.total_tokens,
            },
          }
          : {}),
      };
    }
  }
}
