/**
 * ChatModels for an experiment's `models`, built on first use through a factory the host
 * injects (the host plugs in the local engine and `core/chat`; this folder never imports them).
 *
 * @module
 */

import type { ChatModel } from "../contracts/chat_model.ts";
import type { Persona } from "../contracts/persona.ts";
import { withCode } from "../errors.ts";
import type { ModelSpec } from "./experiment_schema.ts";

/** What the factory receives for one model id. */
export interface ModelRequest {
  id: string;
  /** The spec; a `local` path that exists relative to the experiment file is made absolute. */
  spec: ModelSpec;
  /** For `persona` models: the persona, parsed (its own `model` field names the base model). */
  persona?: Persona;
  /** The experiment file's folder. */
  baseDir: string;
  signal?: AbortSignal;
}

/**
 * Builds a ChatModel for a model entry of an experiment.
 *
 * @example
 * ```ts
 * import type { ChatModelFactory } from "./model_pool.ts";
 * import { OpenAIChatModel } from "../chat/mod.ts";
 * const factory: ChatModelFactory = ({ spec }) => {
 *   if (spec.kind !== "openai") throw new TypeError(`kind ${spec.kind} is not supported here`);
 *   return new OpenAIChatModel({ baseURL: spec.base_url, model: spec.model });
 * };
 * ```
 */
export type ChatModelFactory = (request: ModelRequest) => ChatModel | Promise<ChatModel>;

/**
 * Lazily built, cached ChatModels by id.
 *
 * @example
 * ```ts
 * import { ModelPool } from "./model_pool.ts";
 * declare const factory: import("./model_pool.ts").ChatModelFactory;
 * const pool = new ModelPool(factory, { gpt: { kind: "openai", base_url: "http://localhost:8000/v1", model: "m", options: {} } }, {}, ".");
 * const gpt = await pool.get("gpt");
 * ```
 */
export class ModelPool {
  #factory: ChatModelFactory | undefined;
  #specs: Record<string, ModelSpec>;
  #personas: Record<string, Persona>;
  #baseDir: string;
  #models = new Map<string, Promise<ChatModel>>();

  constructor(
    factory: ChatModelFactory | undefined,
    specs: Record<string, ModelSpec>,
    personas: Record<string, Persona>,
    baseDir: string,
  ) {
    this.#factory = factory;
    this.#specs = specs;
    this.#personas = personas;
    this.#baseDir = baseDir;
  }

  /** The model with this id, built on the first call. */
  get(id: string, signal?: AbortSignal): Promise<ChatModel> {
    let model = this.#models.get(id);
    if (!model) {
      model = this.#build(id, signal);
      this.#models.set(id, model);
      model.catch(() => this.#models.delete(id));
    }
    return model;
  }

  async #build(id: string, signal?: AbortSignal): Promise<ChatModel> {
    const spec = this.#specs[id];
    if (!spec) {
      throw withCode(
        new TypeError(`model '${id}' is not in the experiment's models; add it there`),
        "E_CONFIG",
      );
    }
    if (!this.#factory) {
      throw withCode(
        new TypeError(
          `model '${id}' (kind ${spec.kind}) cannot be built: no ChatModel factory was given; ` +
            "run experiments through 'dramatis run', which installs one",
        ),
        "E_NOT_AVAILABLE",
      );
    }
    const persona = spec.kind === "persona" ? this.#personas[spec.persona] : undefined;
    return await this.#factory({ id, spec, persona, baseDir: this.#baseDir, signal });
  }
}
