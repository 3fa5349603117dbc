/**
 * The `<model>` strings that plugin commands accept, and how one becomes a ChatModel:
 *
 * | form                              | model                                                            |
 * | --------------------------------- | ---------------------------------------------------------------- |
 * | `openai:<name>`                   | an OpenAI-compatible API from `OPENAI_BASE_URL` / `OPENAI_API_KEY` |
 * | `http(s)://host[:port]/v1#<name>` | the OpenAI-compatible server at that base URL (key: `OPENAI_API_KEY` if set); without `#<name>`, the first model it lists |
 * | `dramatis+http(s)://…#<name>`     | the same, declared to accept Dramatis request extensions (identities, steering, …); a plain URL gets them only when it is this project's server |
 * | `persona:<file.json>`             | a persona file played on its own `model` (any form here), with its adapters, steering and plugin backend |
 * | anything else                     | a local model directory (or hub id) on this project's engine     |
 *
 * {@link ModelResolver} builds each model once and puts every one behind a shared SQLite response
 * cache, so a rerun with the same inputs makes no model call.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { CachedChatModel } from "../chat/cached_chat_model.ts";
import { OpenAIChatModel } from "../chat/openai_chat_model.ts";
import { withRetry } from "../chat/with_retry.ts";
import type { ChatModel } from "../contracts/chat_model.ts";
import { PersonaSchema } from "../contracts/persona.ts";
import { withCode } from "../errors.ts";
import { PersonaChatModel } from "../persona/persona_chat_model.ts";
import { baseModelFor, type HostModelOptions, personaBackend } from "./model_factory.ts";

/** The parsed form of a `<model>` string. */
export type ModelSpec =
  | { kind: "openai"; model: string }
  | { kind: "url"; baseURL: string; model?: string; extensions?: "dramatis" }
  | { kind: "persona"; file: string }
  | { kind: "local"; path: string };

/** The help text for a `<model>` flag. */
export const MODEL_SYNTAX =
  "a local model directory, openai:<name> (OPENAI_BASE_URL / OPENAI_API_KEY), " +
  "http(s)://host:port/v1#<name> (an OpenAI-compatible server; dramatis+http(s)://… when it " +
  "accepts Dramatis request extensions) or persona:<file.json>";

/**
 * Parses a `<model>` string; a TypeError (`E_USAGE`) names what is wrong.
 *
 * @example
 * ```ts
 * import { parseModelSpec } from "./model_spec.ts";
 * parseModelSpec("http://127.0.0.1:8000/v1#ada"); // { kind: "url", baseURL: "http://127.0.0.1:8000/v1", model: "ada" }
 * parseModelSpec("openai:gpt-4o-mini"); // { kind: "openai", model: "gpt-4o-mini" }
 * ```
 */
export function parseModelSpec(spec: string): ModelSpec {
  const s = spec.trim();
  const bad = (why: string) =>
    withCode(new TypeError(`model '${spec}' ${why}; write ${MODEL_SYNTAX}`), "E_USAGE");
  if (!s) throw bad("is empty");
  if (s.startsWith("openai:")) {
    const model = s.slice("openai:".length);
    if (!model) throw bad("names no model after 'openai:'");
    return { kind: "openai", model };
  }
  const declared = /^dramatis\+https?:\/\//i.test(s);
  if (declared || /^https?:\/\//i.test(s)) {
    const url = declared ? s.slice("dramatis+".length) : s;
    const hash = url.indexOf("#");
    const baseURL = (hash < 0 ? url : url.slice(0, hash)).replace(/\/+$/, "");
    try {
      new URL(baseURL);
    } catch {
      throw bad("is not a valid URL");
    }
    const model = hash < 0 ? undefined : url.slice(hash + 1) || undefined;
    return {
      kind: "url",
      baseURL,
      ...(model ? { model } : {}),
      ...(declared ? { extensions: "dramatis" as const } : {}),
    };
  }
  if (s.startsWith("persona:")) {
    const file = s.slice("persona:".length);
    if (!file) throw bad("names no persona file after 'persona:'");
    return { kind: "persona", file };
  }
  if (/\.json$/i.test(s) && !isDirectory(s)) {
    throw bad(`is a JSON file; a persona is written persona:${s}`);
  }
  return { kind: "local", path: s };
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
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

async function readPersona(file: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    throw withCode(
      new TypeError(
        `persona file ${file} cannot be read as JSON (${(error as Error).message}); ` +
          "pass a persona JSON file (core/persona format)",
      ),
      "E_CONFIG",
    );
  }
  const parsed = PersonaSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw withCode(
      new TypeError(`persona file ${file}: field '${i.path.join(".")}': ${i.message}`),
      "E_CONFIG",
    );
  }
  return parsed.data;
}

/** Options of {@link openModelSpec}: the host's model options, with the plugin registry. */
export type OpenModelOptions = HostModelOptions & {
  /** Retries of remote calls on transient HTTP errors (default 3). */
  retries?: number;
  /** Bearer key for `http(s)://` servers (default `OPENAI_API_KEY`). */
  apiKey?: string;
  /**
   * Wraps a persona's base model (the resolver puts its cache here, under the persona, so the
   * persona's prompt, steering and identities are part of every cache key).
   */
  wrapBase?: (model: ChatModel) => ChatModel;
};

/**
 * Opens the ChatModel a `<model>` string names (no cache; see {@link ModelResolver}). A persona's
 * base model is itself a `<model>`; a relative local path is taken relative to the persona file
 * when it exists there. Its adapters and plugin backend are built through `options.registry`.
 *
 * @example
 * ```ts ignore
 * import { openModelSpec } from "./model_spec.ts";
 * const model = await openModelSpec("http://127.0.0.1:8000/v1#ada");
 * ```
 */
export async function openModelSpec(
  spec: string,
  options: OpenModelOptions = {},
): Promise<ChatModel> {
  const parsed = parseModelSpec(spec);
  const retries = options.retries ?? 3;
  switch (parsed.kind) {
    case "openai":
      return withRetry(new OpenAIChatModel({ model: parsed.model }), { retries });
    case "url": {
      const apiKey = options.apiKey ?? env("OPENAI_API_KEY");
      const model = parsed.model ?? await firstListedModel(parsed.baseURL, apiKey);
      return withRetry(
        new OpenAIChatModel({
          baseURL: parsed.baseURL,
          model,
          apiKey,
          extensions: parsed.extensions,
        }),
        { retries },
      );
    }
    case "local": {
      const path = existsSync(parsed.path) ? resolve(parsed.path) : parsed.path;
      return baseModelFor(path, `local:${path}`, options);
    }
    case "persona": {
      const persona = await readPersona(parsed.file);
      const inner = parseModelSpec(persona.model);
      if (inner.kind === "persona") {
        throw withCode(
          new TypeError(
            `${parsed.file}: field model is '${persona.model}', another persona; set it to a ` +
              "model directory, openai:<name> or http(s)://host:port/v1#<name>",
          ),
          "E_CONFIG",
        );
      }
      const near = (p: string) => {
        const abs = resolve(parsed.file, "..", p);
        return existsSync(abs) ? abs : p;
      };
      const local = {
        ...persona,
        adapters: persona.adapters.map((a) => ({ ...a, path: near(a.path) })),
      };
      if (inner.kind === "local") local.model = near(inner.path);
      // A local base (with adapters, steering, a plugin backend) is built the way the server
      // builds it; a remote base is any other <model>.
      const base = inner.kind === "local"
        ? await personaBackend(options, options.registry)(local)
        : await openModelSpec(persona.model, options);
      return new PersonaChatModel(persona, options.wrapBase?.(base) ?? base);
    }
  }
}

/** Options of {@link ModelResolver}. */
export type ModelResolverOptions = OpenModelOptions & {
  /** The SQLite cache file, or `:memory:`; `null` disables caching. */
  cachePath: string | null;
};

/**
 * Builds (once per spec) the ChatModels named by `<model>` strings, each behind one shared
 * response cache. Call {@link ModelResolver.close} to close the cache files.
 *
 * @example
 * ```ts ignore
 * import { ModelResolver } from "./model_spec.ts";
 * const models = new ModelResolver({ cachePath: ".cache/gca.sqlite" });
 * const actor = await models.get("http://127.0.0.1:8000/v1#ada");
 * console.log(models.stats()); // { hits: 0, misses: 0 }
 * models.close();
 * ```
 */
export class ModelResolver {
  #options: ModelResolverOptions;
  #models = new Map<string, Promise<ChatModel>>();
  #caches: CachedChatModel[] = [];

  constructor(options: ModelResolverOptions) {
    this.#options = options;
  }

  /** The model for a spec string (built on first use). */
  get(spec: string): Promise<ChatModel> {
    let m = this.#models.get(spec);
    if (!m) {
      const persona = parseModelSpec(spec).kind === "persona";
      const wrapBase = (model: ChatModel) => this.#cached(model);
      m = openModelSpec(spec, { ...this.#options, wrapBase }).then((model) =>
        persona ? model : this.#cached(model)
      );
      this.#models.set(spec, m);
      m.catch(() => this.#models.delete(spec));
    }
    return m;
  }

  /** Cache hits and misses over every model built so far. */
  stats(): { hits: number; misses: number } {
    return this.#caches.reduce(
      (a, c) => ({ hits: a.hits + c.stats.hits, misses: a.misses + c.stats.misses }),
      { hits: 0, misses: 0 },
    );
  }

  /** Closes the cache files. */
  close(): void {
    for (const c of this.#caches) c.close();
  }

  #cached(model: ChatModel): ChatModel {
    if (this.#options.cachePath === null) return model;
    const c = new CachedChatModel(model, { path: this.#options.cachePath });
    this.#caches.push(c);
    return c;
  }
}
