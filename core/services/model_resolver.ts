/**
 * {@link ModelResolver}: ChatModels by model reference for commands that talk to several models,
 * each built once through the {@link ModelHub} and put behind one shared SQLite response cache,
 * so a rerun with the same inputs makes no model call.
 *
 * @module
 */

import { CachedChatModel } from "../chat/cached_chat_model.ts";
import type { ChatModel } from "../contracts/chat_model.ts";
import type { ChatModelRequest, ModelHub } from "./model_hub.ts";
import { parseModelRef } from "./model_ref.ts";

/** Options of {@link ModelResolver}. */
export interface ModelResolverOptions extends Omit<ChatModelRequest, "wrapBase" | "id"> {
  /** The hub that builds the models. */
  hub: ModelHub;
  /** The SQLite cache file, or `:memory:`; `null` disables caching. */
  cachePath: string | null;
}

/**
 * Builds (once per reference) the ChatModels named by model references, each behind one shared
 * response cache. A persona's cache sits under the persona, so its prompt, steering and
 * identities are part of every key. Call {@link ModelResolver.close} to close the cache files.
 *
 * @example
 * ```ts ignore
 * import { ModelHub } from "./model_hub.ts";
 * import { ModelResolver } from "./model_resolver.ts";
 * const models = new ModelResolver({ hub: new ModelHub(), cachePath: ".cache/gca.sqlite" });
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

  /** The model for a reference (built on first use). */
  get(ref: string): Promise<ChatModel> {
    let m = this.#models.get(ref);
    if (!m) {
      const persona = parseModelRef(ref).kind === "persona";
      const { hub, cachePath: _c, ...request } = this.#options;
      m = hub.chatModel(ref, { ...request, wrapBase: (model) => this.#cached(model) }).then((
        model,
      ) => persona ? model : this.#cached(model));
      this.#models.set(ref, m);
      m.catch(() => this.#models.delete(ref));
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
