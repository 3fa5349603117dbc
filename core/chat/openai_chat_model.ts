/**
 * `OpenAIChatModel`: a ChatModel over any OpenAI-compatible chat-completions endpoint (OpenAI,
 * vLLM, SGLang, TGI, or this project's own server) through the official `openai` client.
 *
 * Dramatis request extras (`steering`, `constraint`, the non-OpenAI sampling knobs `top_k`,
 * `repetition_penalty`, and every plugin-defined request extension in `extensions`, e.g. hirpf's
 * `identities`, each sent as a top-level field of its name) go only to endpoints known to accept
 * them: this project's server (found by its model list, whose entries are `owned_by: "dramatis"`)
 * or an endpoint declared so (`extensions: "dramatis"`, model reference
 * `dramatis+http(s)://…`). Elsewhere — OpenAI itself answers 400 "Unrecognized request argument
 * supplied" — they are left out, so protocols run as the papers' prompt-only baselines, and the
 * model says so once.
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
import { CORE_REQUEST_FIELDS } from "../contracts/request_extension.ts";
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
  /**
   * Whether the endpoint accepts Dramatis request extensions: `"dramatis"` (yes), `"none"`
   * (never send them), `"auto"` (default: yes only when the endpoint's model list shows this
   * project's server; asked once, and only when a request carries an extension).
   */
  extensions?: "auto" | "dramatis" | "none";
  /** Where the one-time "extensions left out" warning goes (default stderr). */
  onWarning?: (message: string) => void;
}

/**
 * Core request fields outside OpenAI's chat-completions API, sent only to endpoints that accept
 * them (as are the plugin-defined `extensions`).
 *
 * @example
 * ```ts
 * import { REQUEST_EXTENSIONS } from "./openai_chat_model.ts";
 * REQUEST_EXTENSIONS.includes("steering"); // true
 * ```
 */
export const REQUEST_EXTENSIONS = [
  "steering",
  "constraint",
  "top_k",
  "repetition_penalty",
] as const;

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
 * A ChatModel speaking the OpenAI chat-completions API. Dramatis extras ({@link
 * REQUEST_EXTENSIONS} and `extensions`) go out as extra body fields only when set and only to an endpoint known
 * to accept them (see the module doc); elsewhere they are left out with one warning.
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
  #accepts: Promise<boolean> | undefined;
  #warned = false;

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

  /**
   * Whether the endpoint accepts Dramatis extensions (asked once under `"auto"`: the endpoint's
   * model list names this project's server as owner).
   */
  acceptsExtensions(): Promise<boolean> {
    const mode = this.#options.extensions ?? "auto";
    if (mode !== "auto") return Promise.resolve(mode === "dramatis");
    if (!this.#accepts) {
      const official = /(^|\.)openai\.com$/i.test(new URL(this.#client.baseURL).hostname);
      this.#accepts = official ? Promise.resolve(false) : this.#client.models.list().then(
        (page) => page.data.some((m) => m.owned_by === "dramatis"),
        () => false,
      );
    }
    return this.#accepts;
  }

  /**
   * The request body sent for a ChatRequest (exported for inspection and tests);
   * `extensions: false` leaves out the {@link REQUEST_EXTENSIONS} and the plugin extensions.
   */
  body(
    request: ChatRequest,
    options: { extensions?: boolean } = {},
  ): Record<string, unknown> {
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
    };
    if (options.extensions !== false) {
      for (const [key, value] of Object.entries(request.extensions ?? {})) {
        if (CORE_REQUEST_FIELDS.includes(key)) {
          throw withCode(
            new TypeError(
              `OpenAIChatModel: request extension '${key}' has the name of a core request ` +
                "field; request extensions take names of their own",
            ),
            "E_CONFIG",
          );
        }
        body[key] = value;
      }
    }
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    if (options.extensions === false) {
      for (const key of REQUEST_EXTENSIONS) delete body[key];
    }
    return body;
  }

  /** The body to send: extensions kept for endpoints that accept them, else dropped (warned once). */
  async #send(request: ChatRequest): Promise<Record<string, unknown>> {
    const used = [
      ...REQUEST_EXTENSIONS.filter((k) => request[k] !== undefined),
      ...Object.keys(request.extensions ?? {}).filter((k) => request.extensions![k] !== undefined),
    ];
    if (used.length === 0) return this.body(request);
    if (await this.acceptsExtensions()) return this.body(request);
    if (!this.#warned) {
      this.#warned = true;
      const message = `${this.id}: this endpoint is not known to accept Dramatis request ` +
        `extensions (${
          REQUEST_EXTENSIONS.join(", ")
        } and plugin extensions), so they are left out of every request ` +
        `(first: ${used.join(", ")}) and the protocol runs as the prompt-only baseline; serve ` +
        `the model with 'dramatis serve', or write the reference as ` +
        `dramatis+${this.#client.baseURL}#<name> if the endpoint accepts them`;
      if (this.#options.onWarning) this.#options.onWarning(message);
      else console.warn(`dramatis: warning: ${message}`);
    }
    return this.body(request, { extensions: false });
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const body = { ...(await this.#send(request)), stream: false };
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
      ...(await this.#send(request)),
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
