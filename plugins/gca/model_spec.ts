/**
 * The `<model>` syntax of the gca commands and how it becomes a ChatModel. One string names a
 * model:
 *
 * | form                                  | model                                                        |
 * | ------------------------------------- | ------------------------------------------------------------ |
 * | `openai:<name>`                       | OpenAI-compatible API from `OPENAI_BASE_URL` / `OPENAI_API_KEY` |
 * | `http(s)://host[:port]/v1#<name>`      | the OpenAI-compatible server at that base URL, model `<name>` (key: `OPENAI_API_KEY` if set) |
 * | `persona:<file.json>`                 | a persona file (core/persona) played on its own `model`, which may be any form here |
 * | anything else                         | a local model directory (or hub id) on this project's engine |
 *
 * Every model is wrapped in a {@link CachedChatModel} on one SQLite file, so a rerun with the same
 * inputs makes no model call. A persona's cache sits under the persona, so its steering and
 * identities are part of the cache key.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { CachedChatModel } from "../../core/chat/cached_chat_model.ts";
import type { ConstraintFactory } from "../../core/chat/local_chat_model.ts";
import { OpenAIChatModel } from "../../core/chat/openai_chat_model.ts";
import { withRetry } from "../../core/chat/with_retry.ts";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import { PersonaSchema } from "../../core/contracts/persona.ts";
import { withCode } from "../../core/errors.ts";
import { baseModelFor } from "../../core/host/model_factory.ts";
import { PersonaChatModel } from "../../core/persona/persona_chat_model.ts";

/** The parsed form of a `<model>` string. */
export type ModelSpec =
  | { kind: "openai"; model: string }
  | { kind: "url"; baseURL: string; model: string }
  | { kind: "persona"; file: string }
  | { kind: "local"; path: string };

/** The help text for a `<model>` flag. */
export const MODEL_SYNTAX =
  "a local model directory, openai:<name> (OPENAI_BASE_URL / OPENAI_API_KEY), " +
  "http(s)://host:port/v1#<name> (an OpenAI-compatible server) or persona:<file.json>";

/**
 * Parses a `<model>` string. Throws a TypeError (`E_USAGE`) for an empty name or a URL without
 * `#<model>`.
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
  if (/^https?:\/\//i.test(s)) {
    const hash = s.indexOf("#");
    if (hash < 0 || hash === s.length - 1) throw bad("is a URL without '#<model name>'");
    return { kind: "url", baseURL: s.slice(0, hash).replace(/\/+$/, ""), model: s.slice(hash + 1) };
  }
  if (s.startsWith("persona:")) {
    const file = s.slice("persona:".length);
    if (!file) throw bad("names no persona file after 'persona:'");
    return { kind: "persona", file };
  }
  return { kind: "local", path: s };
}

/** Options of {@link ModelResolver}. */
export interface ModelResolverOptions {
  /** The SQLite cache file, or `:memory:`; `null` disables caching (tests of the cache itself). */
  cachePath: string | null;
  /** Constraint compiler for local models (JSON-schema → token masks). */
  constraint?: ConstraintFactory | null;
  /** Retries of remote calls on transient HTTP errors (default 3). */
  retries?: number;
}

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
      m = this.#build(parseModelSpec(spec), spec);
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

  async #raw(spec: ModelSpec, text: string): Promise<ChatModel> {
    const retries = this.#options.retries ?? 3;
    switch (spec.kind) {
      case "openai":
        return withRetry(new OpenAIChatModel({ model: spec.model }), { retries });
      case "url":
        return withRetry(
          new OpenAIChatModel({
            baseURL: spec.baseURL,
            model: spec.model,
            apiKey: Deno.env.get("OPENAI_API_KEY") || undefined,
          }),
          { retries },
        );
      case "local": {
        const path = existsSync(spec.path) ? resolve(spec.path) : spec.path;
        return await baseModelFor(path, `local:${path}`, {
          constraint: this.#options.constraint ?? undefined,
        });
      }
      case "persona":
        throw new Error(`internal: persona spec ${text} reached #raw`);
    }
  }

  async #build(spec: ModelSpec, text: string): Promise<ChatModel> {
    if (spec.kind !== "persona") return this.#cached(await this.#raw(spec, text));
    let raw: unknown;
    try {
      raw = JSON.parse(await Deno.readTextFile(spec.file));
    } catch (error) {
      throw withCode(
        new TypeError(
          `persona file ${spec.file} cannot be read as JSON (${(error as Error).message}); ` +
            "pass a persona JSON file (core/persona format)",
        ),
        "E_CONFIG",
      );
    }
    const parsed = PersonaSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw withCode(
        new TypeError(`persona file ${spec.file}: field '${i.path.join(".")}': ${i.message}`),
        "E_CONFIG",
      );
    }
    const persona = parsed.data;
    // the persona's base model is itself a <model>; a relative local path is relative to the file
    let inner = parseModelSpec(persona.model);
    if (inner.kind === "persona") {
      throw withCode(
        new TypeError(`persona ${persona.name}: its model may not be another persona`),
        "E_CONFIG",
      );
    }
    if (inner.kind === "local") {
      const near = resolve(spec.file, "..", inner.path);
      if (existsSync(near)) inner = { kind: "local", path: near };
    }
    const base = this.#cached(await this.#raw(inner, persona.model));
    return new PersonaChatModel(persona, base);
  }
}
