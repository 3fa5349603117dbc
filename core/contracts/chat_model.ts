/**
 * The ChatModel contract: one interface for every model a plugin talks to, whether a local
 * persona on our engine, a remote OpenAI-compatible API, or this project's own server.
 * Field names follow the OpenAI chat-completions schema so requests pass through unchanged.
 *
 * @module
 */

import type { SteeringItem } from "./steerer.ts";

/** A chat message. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
  /** Optional speaker name (OpenAI `name`). */
  name?: string;
}

/** Structured-output request, as in OpenAI's `response_format`. */
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
    type: "json_schema";
    json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean };
  };

/**
 * A chat request. Dramatis extras (`steering`, `constraint`, `top_k`, `repetition_penalty`) and
 * plugin-defined request extensions (`extensions`) are optional.
 */
export interface ChatRequest {
  messages: ChatMessage[];
  /** Model or persona name; a ChatModel bound to one model may ignore it. */
  model?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  repetition_penalty?: number;
  seed?: number;
  stop?: string | string[];
  n?: number;
  logprobs?: boolean;
  top_logprobs?: number;
  response_format?: ResponseFormat;
  /** Local decoding constraint beyond `response_format`: a fixed set of choices or a regex. */
  constraint?: { choices: string[] } | { regex: string };
  /** Residual-stream steering applied for this request only (see {@link SteeringEntry}). */
  steering?: SteeringItem[];
  /**
   * Request extensions the loaded plugins define, by name (e.g. hirpf's
   * `{ identities: ["EXT_high", "Doctor"] }`, persona_vectors' `{ projections: {...} }`); on the
   * wire each is a top-level body field. See core/contracts/request_extension.ts.
   */
  extensions?: Record<string, unknown>;
  /** Cancels the request. Not serialized. */
  signal?: AbortSignal;
}

/** Log-probability of one generated token with its top alternatives. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top_logprobs: { token: string; logprob: number }[];
}

/** Why generation ended. */
export type FinishReason = "stop" | "length" | "content_filter";

/** One completion choice. */
export interface ChatChoice {
  index: number;
  message: { role: "assistant"; content: string };
  finish_reason: FinishReason;
  logprobs?: { content: TokenLogprob[] } | null;
}

/** Token usage of a request. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** A chat response. `metadata` carries Dramatis extras such as trait projections. */
export interface ChatResponse {
  id: string;
  model: string;
  created: number;
  choices: ChatChoice[];
  usage: Usage;
  metadata?: Record<string, unknown>;
}

/** One streamed chunk. */
export interface ChatChunk {
  id: string;
  model: string;
  created: number;
  choices: {
    index: number;
    delta: { role?: "assistant"; content?: string };
    finish_reason: FinishReason | null;
    logprobs?: { content: TokenLogprob[] } | null;
  }[];
  usage?: Usage;
  /** Dramatis extras of the whole response (the final chunk of a local model: seed, speeds). */
  metadata?: Record<string, unknown>;
}

/**
 * A model that answers chat requests.
 *
 * @example
 * ```ts
 * import type { ChatModel } from "./chat_model.ts";
 * async function ask(model: ChatModel, question: string): Promise<string> {
 *   const r = await model.chat({ messages: [{ role: "user", content: question }], max_tokens: 64 });
 *   return r.choices[0].message.content;
 * }
 * ```
 */
export interface ChatModel {
  /** A stable identifier (used in cache keys and run metadata). */
  readonly id: string;
  chat(request: ChatRequest): Promise<ChatResponse>;
  stream(request: ChatRequest): AsyncIterable<ChatChunk>;
}
