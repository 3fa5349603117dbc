/**
 * The macm commands take core model references (core/services/model_ref.ts: a local model
 * directory, `openai:<name>`, `http(s)://host:port/v1[#<name>]` or `persona:<file.json>`), built
 * by the command's model hub. This
 * module opens one behind an optional SQLite response cache, so a rerun is answered from disk.
 *
 * @module
 */

import { CachedChatModel } from "../../core/chat/cached_chat_model.ts";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { ModelHub } from "../../core/services/model_hub.ts";

/** Options of {@link openChatModel}. */
export interface OpenModelOptions {
  /** The model hub (the command context's). */
  models: ModelHub;
  /** A SQLite cache file; every call goes through a {@link CachedChatModel} on it. */
  cache?: string;
  /** Bearer key for `http(s)://` servers (default `OPENAI_API_KEY`). */
  apiKey?: string;
}

/** An opened model: the ChatModel and what to close when done. */
export interface OpenedModel {
  model: ChatModel;
  /** The cache wrapper, when a cache file was given (hit and miss counts). */
  cache?: CachedChatModel;
  close(): void;
}

/**
 * Opens a chat model from a `--model` string, behind a SQLite response cache when `cache` is set.
 *
 * @example
 * ```ts ignore
 * import { openChatModel } from "./model_spec.ts";
 * const { model, close } = await openChatModel("http://127.0.0.1:8000/v1#tiny", { cache: ".cache/macm.sqlite", models });
 * const r = await model.chat({ messages: [{ role: "user", content: "Hello" }], max_tokens: 8 });
 * close();
 * ```
 */
export async function openChatModel(
  spec: string,
  options: OpenModelOptions,
): Promise<OpenedModel> {
  const inner = await options.models.chatModel(spec, { apiKey: options.apiKey });
  if (!options.cache) return { model: inner, close: () => {} };
  const cache = new CachedChatModel(inner, { path: options.cache });
  return { model: cache, cache, close: () => cache.close() };
}
