/**
 * The `--model` syntax of the macm commands, one string naming a chat model:
 *
 * - `openai:<name>`: OpenAI's API (or `OPENAI_BASE_URL`) with `OPENAI_API_KEY`;
 * - `http(s)://host:port/v1#<name>`: any OpenAI-compatible server, for example `dramatis serve`;
 *   `#<name>` picks the model (a persona on our server), without it the first one `/models` lists;
 *   the key is `OPENAI_API_KEY` when set;
 * - anything else: a local model directory (or hub id) run on our engine.
 *
 * Every model is wrapped in a {@link CachedChatModel} when a cache file is given, so a rerun is
 * answered from SQLite. (Kept in this plugin until a shared parser lands in core.)
 *
 * @module
 */

import { CachedChatModel } from "../../core/chat/cached_chat_model.ts";
import { OpenAIChatModel } from "../../core/chat/openai_chat_model.ts";
import { withRetry } from "../../core/chat/with_retry.ts";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import { withCode } from "../../core/errors.ts";
import { baseModelFor } from "../../core/host/model_factory.ts";

/** A parsed model string. */
export type MacmModelSpec =
  | { kind: "local"; path: string }
  | { kind: "openai"; model: string }
  | { kind: "url"; baseURL: string; model?: string };

/**
 * Parses a `--model` string (see the module doc).
 *
 * @example
 * ```ts
 * import { parseModelSpec } from "./model_spec.ts";
 * parseModelSpec("openai:gpt-4o-mini"); // { kind: "openai", model: "gpt-4o-mini" }
 * parseModelSpec("http://127.0.0.1:8000/v1#hazel"); // { kind: "url", baseURL: "http://127.0.0.1:8000/v1", model: "hazel" }
 * parseModelSpec("./models/tiny"); // { kind: "local", path: "./models/tiny" }
 * ```
 */
export function parseModelSpec(spec: string): MacmModelSpec {
  const s = spec.trim();
  if (s === "") {
    throw withCode(
      new TypeError(
        'model is ""; pass a model directory, openai:<name> or http://host:port/v1#<name>',
      ),
      "E_USAGE",
    );
  }
  if (s.startsWith("openai:")) {
    const model = s.slice("openai:".length);
    if (!model) {
      throw withCode(new TypeError(`model is "${s}"; name the model: openai:<name>`), "E_USAGE");
    }
    return { kind: "openai", model };
  }
  if (/^https?:\/\//i.test(s)) {
    const hash = s.indexOf("#");
    const baseURL = (hash < 0 ? s : s.slice(0, hash)).replace(/\/+$/, "");
    const model = hash < 0 ? undefined : s.slice(hash + 1) || undefined;
    try {
      new URL(baseURL);
    } catch {
      throw withCode(
        new TypeError(`model is "${s}": not a valid URL; pass http://host:port/v1#<name>`),
        "E_USAGE",
      );
    }
    return model ? { kind: "url", baseURL, model } : { kind: "url", baseURL };
  }
  return { kind: "local", path: s };
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** The first model an OpenAI-compatible server lists. */
async function firstListedModel(baseURL: string, apiKey?: string): Promise<string> {
  let ids: string[] = [];
  try {
    const r = await fetch(`${baseURL}/models`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    });
    const body = await r.json() as { data?: { id: string }[] };
    ids = (body.data ?? []).map((m) => m.id);
  } catch (error) {
    throw withCode(
      new TypeError(
        `cannot list the models of ${baseURL} (${(error as Error).message}); ` +
          "check the server, or name the model with #<name>",
      ),
      "E_CONFIG",
    );
  }
  if (!ids.length) {
    throw withCode(
      new TypeError(`${baseURL}/models lists no model; name one with ${baseURL}#<name>`),
      "E_CONFIG",
    );
  }
  return ids[0];
}

/** Options of {@link openChatModel}. */
export interface OpenModelOptions {
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
 * const { model, close } = await openChatModel("http://127.0.0.1:8000/v1#tiny", { cache: ".cache/macm.sqlite" });
 * const r = await model.chat({ messages: [{ role: "user", content: "Hello" }], max_tokens: 8 });
 * close();
 * ```
 */
export async function openChatModel(
  spec: string,
  options: OpenModelOptions = {},
): Promise<OpenedModel> {
  const parsed = parseModelSpec(spec);
  let inner: ChatModel;
  switch (parsed.kind) {
    case "openai":
      inner = withRetry(new OpenAIChatModel({ model: parsed.model }));
      break;
    case "url": {
      const apiKey = options.apiKey ?? env("OPENAI_API_KEY");
      const model = parsed.model ?? await firstListedModel(parsed.baseURL, apiKey);
      inner = withRetry(new OpenAIChatModel({ baseURL: parsed.baseURL, model, apiKey }));
      break;
    }
    case "local":
      inner = await baseModelFor(parsed.path, parsed.path);
      break;
  }
  if (!options.cache) return { model: inner, close: () => {} };
  const cache = new CachedChatModel(inner, { path: options.cache });
  return { model: cache, cache, close: () => cache.close() };
}
