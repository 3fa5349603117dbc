/**
 * Request extensions: chat-request fields a plugin defines, such as hirpf's `identities` (the
 * identity experts a reply wears) or persona_vectors' `projections` (each reply's projection onto
 * persona vectors). Core carries them opaquely in `ChatRequest.extensions`, keyed by name, and
 * knows none of them:
 *
 * - on the wire each is a top-level field of the chat-completions body under its name; the
 *   server validates it with the declaring plugin's schema (an unknown field is a 400), and
 *   `OpenAIChatModel` sends `extensions` back out the same way;
 * - a local model answers it as its {@link RequestExtension.appliesTo} says: `adapter` — the
 *   engine hands the value to the adapters that list the name in `Adapter.requestExtensions`
 *   (one value per batch row), and refuses a name no adapter of the model reads; `wrapper` — the
 *   plugin's `wrapLocalModel` answers it and removes it before calling the model it wraps.
 *
 * @module
 */

import type { z } from "zod";

/** How a local model answers a request extension. */
export type RequestExtensionTarget = "adapter" | "wrapper";

/**
 * A request extension a plugin declares (`Plugin.requestExtensions`).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import type { RequestExtension } from "./request_extension.ts";
 * const mood: RequestExtension<string[]> = {
 *   name: "moods",
 *   description: "moods the mood adapter switches on for this request",
 *   schema: z.array(z.string().min(1)),
 *   appliesTo: "adapter",
 * };
 * ```
 */
export interface RequestExtension<T = unknown> {
  /** The wire field and the key in `ChatRequest.extensions`; matches {@link EXTENSION_NAME_RULE}. */
  name: string;
  /** One line for listings and errors. */
  description: string;
  /** Validates the value of a request (the server's 400 names the failing sub-field). */
  schema: z.ZodType<T>;
  /** How a local model answers it (see the module doc). */
  appliesTo: RequestExtensionTarget;
  /**
   * The steering-vector ids the value names, with the request field each came from (e.g.
   * `projections.vectors`), so a server confines them to its vector directory like `steering`.
   */
  vectorRefs?(value: T): { param: string; id: string }[];
}

/** The name rule of request extensions (as plugin names). */
export const EXTENSION_NAME_RULE: RegExp = /^[a-z][a-z0-9_]*$/;

/**
 * Chat-completions fields core already defines (OpenAI's and Dramatis' own); no extension may
 * take one of these names.
 */
export const CORE_REQUEST_FIELDS: readonly string[] = [
  "model",
  "messages",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "top_k",
  "repetition_penalty",
  "frequency_penalty",
  "presence_penalty",
  "seed",
  "stop",
  "n",
  "logprobs",
  "top_logprobs",
  "response_format",
  "stream",
  "stream_options",
  "user",
  "tools",
  "functions",
  "tool_choice",
  "function_call",
  "parallel_tool_calls",
  "logit_bias",
  "metadata",
  "store",
  "service_tier",
  "modalities",
  "reasoning_effort",
  "prediction",
  "audio",
  "web_search_options",
  "constraint",
  "steering",
  "extensions",
  "signal",
];
