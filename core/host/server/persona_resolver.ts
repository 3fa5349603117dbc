/**
 * Serving personas: maps a request's `model` (a persona name) to a ChatModel that plays the
 * persona on a backend the host supplies, and lists the personas as OpenAI models.
 *
 * @module
 */

import type { ChatModel } from "../../contracts/chat_model.ts";
import type { Persona } from "../../contracts/persona.ts";
import { PersonaChatModel } from "../../persona/persona_chat_model.ts";
import type { PersonaStore } from "../../persona/persona_store.ts";
import type { ModelInfo } from "./app.ts";

/**
 * Builds the base ChatModel for a persona: the local engine for `persona.model`, or a plugin
 * backend when `persona.backend` is set. It is called once per persona version, so a factory that
 * loads weights should share them between personas on the same base model itself.
 */
export type BackendFactory = (persona: Persona) => ChatModel | Promise<ChatModel>;

/** Options of {@link PersonaResolver}. */
export interface PersonaResolverOptions {
  /** Personas on disk (editable through `/v1/personas`). */
  store?: PersonaStore;
  /** Personas always served, e.g. the bare base model (a stored persona of the same name wins). */
  fixed?: Persona[];
  backend: BackendFactory;
  /**
   * Told about a persona file that cannot be read (it is then left out of the listing and
   * answers 404), so one bad file does not break `GET /v1/models` for every user. Without it,
   * such a file fails the listing.
   */
  onInvalid?: (name: string, error: unknown) => void;
}

/**
 * Resolves persona names to ChatModels, caching one per persona and rebuilding it when the
 * persona changes.
 *
 * @example
 * ```ts
 * import { PersonaResolver } from "./persona_resolver.ts";
 * import { PersonaStore } from "../../persona/persona_store.ts";
 * import { ScriptedChatModel } from "../../chat/testing/mod.ts";
 * const resolver = new PersonaResolver({ store: new PersonaStore("./personas"),
 *   backend: () => new ScriptedChatModel() });
 * const model = await resolver.resolve("ada"); // undefined when there is no such persona
 * ```
 */
export class PersonaResolver {
  #options: PersonaResolverOptions;
  #cache = new Map<string, { key: string; model: Promise<ChatModel> }>();

  constructor(options: PersonaResolverOptions) {
    this.#options = options;
  }

  async #find(name: string): Promise<Persona | undefined> {
    if (this.#options.store) {
      let stored: Persona | undefined;
      try {
        stored = await this.#options.store.get(name);
      } catch (error) {
        // A name that cannot be a file is not stored; an unreadable file is reported, not served.
        if (error instanceof RangeError && (error as { param?: string }).param === "name") {
          /* not stored */
        } else if (this.#options.onInvalid) this.#options.onInvalid(name, error);
        else throw error;
      }
      if (stored) return stored;
    }
    return this.#options.fixed?.find((p) => p.name === name);
  }

  /** The ChatModel playing the named persona, or undefined when there is none. */
  async resolve(name: string): Promise<ChatModel | undefined> {
    const persona = await this.#find(name);
    if (!persona) return undefined;
    const key = JSON.stringify(persona);
    const cached = this.#cache.get(name);
    if (cached?.key === key) return cached.model;
    const model = Promise.resolve(this.#options.backend(persona)).then((base) =>
      new PersonaChatModel(persona, base)
    );
    model.catch(() => this.#cache.delete(name));
    this.#cache.set(name, { key, model });
    return model;
  }

  /** Drops the cached backend of a persona (after an edit through the API). */
  invalidate(name: string): void {
    this.#cache.delete(name);
  }

  /** The personas as OpenAI model entries, sorted by name (code-point order). */
  async models(): Promise<ModelInfo[]> {
    const names = new Set<string>();
    const out: ModelInfo[] = [];
    for (const p of (await this.#options.store?.list(this.#options.onInvalid)) ?? []) {
      names.add(p.name);
      out.push({ id: p.name, owned_by: "dramatis" });
    }
    for (const p of this.#options.fixed ?? []) {
      if (!names.has(p.name)) out.push({ id: p.name, owned_by: "dramatis" });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
