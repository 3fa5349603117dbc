/**
 * {@link ModelHub}: the one place that builds models. It loads engines (once per model, provider,
 * threads, dtype, cache directory and adapter set), turns model references
 * ({@link parseModelRef}) into ChatModels — local models with the core steering resolver and the
 * loaded plugins' steerers and wrappers, OpenAI-compatible endpoints with retries, personas with
 * their adapters and plugin backend — and closes what it loaded. The CLI makes one hub per
 * command from `--provider` / `--threads` and hands it to verbs, plugin commands and experiments.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { LocalChatModel, type LocalChatModelOptions } from "../chat/local_chat_model.ts";
import { OpenAIChatModel } from "../chat/openai_chat_model.ts";
import { withRetry } from "../chat/with_retry.ts";
import type { Adapter } from "../contracts/adapter.ts";
import type { ChatModel } from "../contracts/chat_model.ts";
import { isSteererEntry } from "../contracts/steerer.ts";
import { type Persona, type PersonaAdapter, PersonaSchema } from "../contracts/persona.ts";
import { withCode } from "../errors.ts";
import type { ChatModelFactory, ModelRequest } from "../experiment/model_pool.ts";
import { Engine, type WeightSource } from "../model/engine.ts";
import type { HubOptions } from "../model/hub.ts";
import { parseWeightFormat } from "../model/quantize.ts";
import { PersonaChatModel } from "../persona/persona_chat_model.ts";
import { callHook } from "../plugin/hooks.ts";
import type { PluginRegistry } from "../plugin/registry.ts";
import { type Provider, PROVIDERS } from "../runtime/providers.ts";
import { createSteeringResolver } from "../steering/steering_resolver.ts";
import { type VectorSource, vectorSource } from "../steering/vector_source.ts";
import { registrySteering } from "./registry_steering.ts";
import { formatModelRef, type ModelRef, parseModelRef } from "./model_ref.ts";
import {
  type Embedder,
  type EmbedderRequest,
  endpointEmbedder,
  engineEmbedder,
} from "./embedder.ts";

/** How local models run: what `--provider`, `--threads` and experiment model `options` set. */
export interface RunSettings {
  /** Execution provider (default `cpu`); a missing one is an `E_PROVIDER` error, never a fallback. */
  provider?: Provider;
  /** Threads inside one op (default: one per core). */
  threads?: number;
  /**
   * How the frozen weights are stored: `f32`, `f16`, `bf16`, `int8`, `int4` (blocks of 128;
   * `int8:32` / `int4:32` for 32); default `DRAMATIS_DTYPE`, else a GPTQ/AWQ checkpoint's own
   * bits, else `f32`.
   */
  dtype?: string;
  /** Where exported graphs are cached (default `$DRAMATIS_CACHE/graphs`). */
  cacheDir?: string;
}

/** Options of {@link ModelHub}. */
export interface ModelHubOptions extends RunSettings {
  /** Resolves persona adapters, persona backends, steerers and model wrappers of loaded plugins. */
  registry?: PluginRegistry;
  /** Endpoint, token and cache of hub downloads (hub ids only). */
  hub?: HubOptions;
  /** Load progress lines (resolve, export, session). */
  onProgress?: (step: string) => void;
  /** The constraint compiler local models use (default core/model/constraint). */
  constraint?: LocalChatModelOptions["constraint"];
  /**
   * Maps the vector ids of requests and personas (steering, projections) to files, confining
   * them (the server's `--vectors`); without it a reference is a file path or registered name.
   */
  locateVector?: (id: string) => Promise<string>;
}

/** What an engine is built with, besides the hub's run settings. */
export interface EngineRequest extends RunSettings {
  /** Build steering inputs into the graph (default true for shared engines). */
  steering?: boolean;
  /** Saved adapters (`{plugin, path}`, built through the plugins) or adapter objects. */
  adapters?: readonly (PersonaAdapter | Adapter)[];
  /**
   * Bytes of saved prompt prefixes the engine keeps for reuse (0 turns reuse off; default the
   * engine's, 256 MiB). Benchmarks set 0 to time cold prompts.
   */
  prefixCacheBytes?: number;
  /** Prompt tokens per prefill call (default the engine's, 256). */
  prefillChunk?: number;
  /** Weights produced on demand instead of the directory's safetensors (see Engine.load). */
  weightSource?: WeightSource;
  /**
   * `MatMulNBits` accuracy level of int4/int8 weights (0 = float32 compute, 4 = int8, the
   * default); for profiles and exactness checks.
   */
  accuracyLevel?: number;
}

/** Options of {@link ModelHub.chatModel}. */
export interface ChatModelRequest {
  /** The id reported in responses and cache keys (default: the reference itself). */
  id?: string;
  /** Saved adapters of a local model. */
  adapters?: readonly PersonaAdapter[];
  /** Retries of remote calls on transient HTTP errors (default 3). */
  retries?: number;
  /** Bearer key for `http(s)://` servers (default `OPENAI_API_KEY`). */
  apiKey?: string;
  /** Wraps a persona's base model (a response cache goes here, under the persona). */
  wrapBase?: (model: ChatModel) => ChatModel;
  /** Run settings for this model only. */
  settings?: RunSettings;
}

/** Experiment model `options` the hub reads (anything else is an error naming the field). */
export const ModelEntryOptionsSchema = z.object({
  provider: z.enum(PROVIDERS as [Provider, ...Provider[]]).optional(),
  threads: z.number().int().min(1).optional(),
  dtype: z.string().optional(),
}).strict();

function isAdapterObject(a: PersonaAdapter | Adapter): a is Adapter {
  return typeof (a as Adapter).emit === "function";
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** Checks run settings; a bad value is a TypeError (`E_CONFIG`) naming it. */
export function checkRunSettings(settings: RunSettings, where = "model options"): RunSettings {
  if (settings.provider !== undefined && !PROVIDERS.includes(settings.provider)) {
    throw withCode(
      new TypeError(
        `${where}: provider is '${settings.provider}'; use one of ${PROVIDERS.join(", ")}`,
      ),
      "E_CONFIG",
    );
  }
  const t = settings.threads;
  if (t !== undefined && (!Number.isInteger(t) || t < 0)) {
    throw withCode(
      new TypeError(`${where}: threads is ${t}; pass a whole number >= 0 (0 = one per core)`),
      "E_CONFIG",
    );
  }
  if (settings.dtype !== undefined) {
    try {
      parseWeightFormat(settings.dtype, `${where}.dtype`);
    } catch (error) {
      throw withCode(error as Error, "E_CONFIG");
    }
  }
  return settings;
}

/** The state every view of one hub shares. */
interface HubState {
  engines: Map<string, Promise<Engine>>;
  owned: Set<Engine>;
  adapterIds: WeakMap<Adapter, number>;
  nextAdapterId: number;
}

/**
 * Builds and caches engines and ChatModels.
 *
 * @example
 * ```ts ignore
 * import { ModelHub } from "./model_hub.ts";
 * const hub = new ModelHub({ provider: "cpu", threads: 2 });
 * const model = await hub.chatModel("./models/tiny");
 * const r = await model.chat({ messages: [{ role: "user", content: "Hi" }], max_tokens: 8 });
 * await hub.close();
 * ```
 */
export class ModelHub {
  #options: ModelHubOptions;
  #state: HubState;

  constructor(options: ModelHubOptions = {}, state?: HubState) {
    this.#options = { ...options, ...checkRunSettings(options, "model hub") };
    this.#state = state ??
      { engines: new Map(), owned: new Set(), adapterIds: new WeakMap(), nextAdapterId: 1 };
  }

  /** The hub's options (run settings, registry). */
  get options(): Readonly<ModelHubOptions> {
    return this.#options;
  }

  /** How vectors named in requests and personas are read (confined by `locateVector`). */
  get vectors(): VectorSource {
    return vectorSource(this.#options.locateVector);
  }

  /** The plugin registry, when one was given. */
  get registry(): PluginRegistry | undefined {
    return this.#options.registry;
  }

  /**
   * A view of this hub with other defaults (run settings, registry, progress) that shares its
   * engine cache; closing either closes both.
   */
  with(overrides: Partial<ModelHubOptions>): ModelHub {
    const defined = Object.fromEntries(
      Object.entries(overrides).filter(([, v]) => v !== undefined),
    );
    return new ModelHub({ ...this.#options, ...defined }, this.#state);
  }

  #settings(extra: RunSettings = {}): Required<Pick<RunSettings, "provider">> & RunSettings {
    const merged = {
      ...this.#options,
      ...Object.fromEntries(
        Object.entries(extra).filter(([, v]) => v !== undefined),
      ),
    } as RunSettings;
    checkRunSettings(merged);
    return { ...merged, provider: merged.provider ?? "cpu" };
  }

  async #adapters(
    model: string,
    refs: readonly (PersonaAdapter | Adapter)[],
  ): Promise<Adapter[]> {
    const adapters: Adapter[] = [];
    const registry = this.#options.registry;
    for (const [i, ref] of refs.entries()) {
      if (isAdapterObject(ref)) {
        adapters.push(ref);
        continue;
      }
      if (!registry?.has(ref.plugin)) {
        throw withCode(
          new TypeError(
            `adapter ${i} names plugin '${ref.plugin}', which is not loaded; load it with --plugin ` +
              "or fix the persona's adapters",
          ),
          "E_PLUGIN_UNKNOWN",
        );
      }
      const roles = await registry.instantiate(ref.plugin, {}, this.#services());
      const factory = Object.values(roles.adapters ?? {})[0];
      if (!factory) {
        throw withCode(
          new TypeError(`adapter ${i}: plugin '${ref.plugin}' provides no adapter`),
          "E_CONFIG",
        );
      }
      // A second adapter of the same kind needs its own parameter prefix in the graph.
      const repeat = refs.slice(0, i).some((r) => !isAdapterObject(r) && r.plugin === ref.plugin);
      adapters.push(
        await factory({ model, path: ref.path, ...(repeat ? { name: `${ref.plugin}_${i}` } : {}) }),
      );
    }
    return adapters;
  }

  #adapterKey(a: PersonaAdapter | Adapter): unknown {
    if (!isAdapterObject(a)) return a;
    let id = this.#state.adapterIds.get(a);
    if (id === undefined) {
      id = this.#state.nextAdapterId++;
      this.#state.adapterIds.set(a, id);
    }
    return `object#${id}`;
  }

  async #load(model: string, request: EngineRequest): Promise<Engine> {
    const s = this.#settings(request);
    const adapters = await this.#adapters(model, request.adapters ?? []);
    return await Engine.load(model, {
      provider: s.provider,
      threads: s.threads,
      dtype: s.dtype,
      ...(request.accuracyLevel !== undefined ? { accuracyLevel: request.accuracyLevel } : {}),
      steering: request.steering ?? true,
      adapters,
      cacheDir: s.cacheDir,
      hub: this.#options.hub,
      onProgress: this.#options.onProgress,
      ...(request.prefixCacheBytes !== undefined
        ? { prefixCacheBytes: request.prefixCacheBytes }
        : {}),
      ...(request.prefillChunk !== undefined ? { prefillChunk: request.prefillChunk } : {}),
      ...(request.weightSource ? { weightSource: request.weightSource } : {}),
    });
  }

  /**
   * A shared engine (loaded once per model, settings and adapter set; closed by {@link close}).
   * Built with steering inputs unless `steering: false`.
   */
  engine(model: string, request: EngineRequest = {}): Promise<Engine> {
    const s = this.#settings(request);
    const key = JSON.stringify([
      model,
      s.provider,
      s.threads ?? null,
      s.dtype ?? null,
      request.accuracyLevel ?? null,
      s.cacheDir ?? null,
      request.steering ?? true,
      (request.adapters ?? []).map((a) => this.#adapterKey(a)),
      request.prefixCacheBytes ?? null,
      request.prefillChunk ?? null,
      request.weightSource?.id ?? null,
    ]);
    let engine = this.#state.engines.get(key);
    if (!engine) {
      engine = this.#load(model, request);
      this.#state.engines.set(key, engine);
      engine.catch(() => this.#state.engines.delete(key));
    }
    return engine;
  }

  /**
   * An engine the caller owns and closes (not shared; {@link close} closes it too if the caller
   * did not). Built without steering inputs unless `steering: true`.
   */
  async openEngine(model: string, request: EngineRequest = {}): Promise<Engine> {
    const engine = await this.#load(model, { steering: false, ...request });
    this.#state.owned.add(engine);
    const close = engine.close.bind(engine);
    engine.close = async () => {
      this.#state.owned.delete(engine);
      await close();
    };
    return engine;
  }

  /**
   * The ChatModel over a local engine: the core steering resolver, the loaded plugins' steerers
   * and the loaded plugins' model wrappers (request extensions such as projections).
   */
  async localChatModel(engine: Engine, id?: string): Promise<ChatModel> {
    const registry = this.#options.registry;
    const locate = this.#options.locateVector;
    const vectors = this.vectors;
    let model: ChatModel = new LocalChatModel(engine, {
      id: id ?? engine.modelDir,
      steering: registrySteering(registry, {
        source: vectors,
        ...(locate
          ? { vectors: createSteeringResolver({ loadVector: vectors.load, cache: false }) }
          : {}),
      }),
      constraint: this.#options.constraint,
    });
    for (const { plugin } of registry?.list() ?? []) {
      const wrap = plugin.wrapLocalModel;
      if (wrap) {
        const inner = model;
        model = await callHook(
          plugin.name,
          "wrapLocalModel",
          () => wrap.call(plugin, inner, engine, { vectors }),
        );
      }
    }
    return model;
  }

  /**
   * The ChatModel a model reference names (no response cache; see {@link ModelResolver}). A
   * persona's base model is itself a reference; a relative local path is taken relative to the
   * persona file when it exists there.
   */
  async chatModel(ref: string | ModelRef, request: ChatModelRequest = {}): Promise<ChatModel> {
    const parsed = parseModelRef(ref);
    const retries = request.retries ?? 3;
    const id = request.id ?? formatModelRef(parsed);
    if (parsed.kind !== "local" && parsed.kind !== "persona" && request.adapters?.length) {
      throw withCode(
        new TypeError(
          `${id}: adapters need a local model, not ${
            formatModelRef(parsed)
          }; drop them or use a local model`,
        ),
        "E_CONFIG",
      );
    }
    switch (parsed.kind) {
      case "openai":
        return withRetry(new OpenAIChatModel({ model: parsed.model }), { retries });
      case "url": {
        let apiKey = request.apiKey;
        if (parsed.apiKeyEnv) {
          apiKey = env(parsed.apiKeyEnv);
          if (!apiKey) {
            throw withCode(
              new TypeError(
                `model '${id}': environment variable ${parsed.apiKeyEnv} is not set; export it with the API key`,
              ),
              "E_CONFIG",
            );
          }
        }
        apiKey ??= env("OPENAI_API_KEY");
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
        const engine = await this.engine(path, {
          ...request.settings,
          adapters: request.adapters,
        });
        return await this.localChatModel(engine, request.id ?? `local:${path}`);
      }
      case "persona": {
        const persona = await readPersonaFile(parsed.file);
        const local = personaNearFile(persona, parsed.file);
        const base = await this.personaBackend(local, request);
        return new PersonaChatModel(persona, request.wrapBase?.(base) ?? base);
      }
    }
  }

  /**
   * The model a persona answers on, without the persona itself (the server and
   * {@link PersonaChatModel} add its prompt, steering and identities): its base model with its
   * adapters, behind its plugin backend when it names one.
   */
  async personaBackend(persona: Persona, request: ChatModelRequest = {}): Promise<ChatModel> {
    const inner = parseModelRef(persona.model);
    if (inner.kind === "persona") {
      throw withCode(
        new TypeError(
          `persona ${persona.name}: field model is '${persona.model}', another persona; set it ` +
            "to a model directory, openai:<name> or http(s)://host:port/v1#<name>",
        ),
        "E_CONFIG",
      );
    }
    // The id names the adapters too: cache keys must tell two adapted models apart.
    const id = [persona.model, ...persona.adapters.map((a) => `${a.plugin}:${a.path}`)].join("+");
    const base = inner.kind === "local"
      ? await this.localChatModel(
        await this.engine(inner.path, { ...request.settings, adapters: persona.adapters }),
        id,
      )
      : await this.chatModel(inner, {
        id,
        adapters: persona.adapters,
        retries: request.retries,
        apiKey: request.apiKey,
      });
    if (!persona.backend) return base;
    return await this.#backend(persona, base);
  }

  async #backend(persona: Persona, base: ChatModel): Promise<ChatModel> {
    const registry = this.#options.registry;
    const { plugin, options: backendOptions } = persona.backend!;
    if (!registry?.has(plugin)) {
      throw withCode(
        new TypeError(
          `persona ${persona.name} asks for the '${plugin}' backend, but no plugin of that name is ` +
            "loaded; load it with --plugin or remove the backend field",
        ),
        "E_PLUGIN_UNKNOWN",
      );
    }
    const roles = await registry.instantiate(plugin, {}, this.#services());
    const factories = Object.values(roles.backends ?? {});
    if (factories.length === 0) {
      throw withCode(
        new TypeError(
          `persona ${persona.name} asks for the '${plugin}' backend, but that plugin provides none`,
        ),
        "E_CONFIG",
      );
    }
    const name = typeof backendOptions.backend === "string" ? backendOptions.backend : undefined;
    const factory = name ? roles.backends![name] : factories[0];
    if (!factory) {
      throw withCode(
        new TypeError(
          `persona ${persona.name}: plugin '${plugin}' has no backend '${name}'; it has ${
            Object.keys(roles.backends!).join(", ")
          }`,
        ),
        "E_CONFIG",
      );
    }
    return await factory(persona, base, backendOptions);
  }

  /** The registry's services, with this hub (its run settings) as the model hub. */
  #services() {
    return { ...this.#options.registry!.services, models: this };
  }

  /** A persona as a ChatModel: {@link personaBackend} wrapped by {@link PersonaChatModel}. */
  async personaModel(persona: Persona, request: ChatModelRequest = {}): Promise<ChatModel> {
    const base = await this.personaBackend(persona, request);
    return new PersonaChatModel(persona, request.wrapBase?.(base) ?? base);
  }

  /**
   * The factory for experiment model entries: `local` (the engine, with the entry's `options`
   * provider / threads / dtype), `openai` (an OpenAI-compatible endpoint, with retries) and
   * `persona` (a persona on its base model).
   */
  experimentFactory(): ChatModelFactory {
    return async (request: ModelRequest): Promise<ChatModel> => {
      const { spec } = request;
      switch (spec.kind) {
        case "local": {
          const parsed = ModelEntryOptionsSchema.safeParse(spec.options ?? {});
          if (!parsed.success) {
            const i = parsed.error.issues[0];
            throw withCode(
              new TypeError(
                `model '${request.id}': options.${i.path.join(".") || "?"}: ${i.message}; ` +
                  "model options take provider (cpu, cuda, webgpu), threads and dtype (f32, f16, " +
                  "bf16, int8, int4, int4:32)",
              ),
              "E_CONFIG",
            );
          }
          checkRunSettings(parsed.data, `model '${request.id}': options`);
          return await this.chatModel({ kind: "local", path: spec.path }, {
            id: request.id,
            settings: parsed.data,
          });
        }
        case "openai":
          return await this.chatModel({
            kind: "url",
            baseURL: spec.base_url.replace(/\/+$/, ""),
            model: spec.model,
            ...(spec.api_key_env ? { apiKeyEnv: spec.api_key_env } : {}),
          }, { id: request.id });
        case "persona":
          return await this.personaModel(request.persona!);
      }
    };
  }

  /**
   * The text embedder a model reference names: a local model's mean-pooled final hidden states
   * (its shared engine) or an OpenAI-compatible embeddings endpoint (`openai:<name>`,
   * `http(s)://…#<name>`); see core/services/embedder.ts. A persona is an `E_USAGE` error.
   */
  async embedder(ref: string | ModelRef, request: EmbedderRequest = {}): Promise<Embedder> {
    const parsed = parseModelRef(ref);
    switch (parsed.kind) {
      case "openai":
      case "url":
        return endpointEmbedder(parsed, request);
      case "local": {
        const path = existsSync(parsed.path) ? resolve(parsed.path) : parsed.path;
        return engineEmbedder(await this.engine(path), path, request);
      }
      case "persona":
        throw withCode(
          new TypeError(
            `embeddings '${formatModelRef(parsed)}' name a persona; embed with a model ` +
              "directory, openai:<name> or http(s)://host:port/v1#<name>",
          ),
          "E_USAGE",
        );
    }
  }

  /** Closes every engine the hub loaded (shared ones and owned ones the caller left open). */
  async close(): Promise<void> {
    const shared = [...this.#state.engines.values()];
    this.#state.engines.clear();
    for (const e of shared) await (await e.catch(() => null))?.close();
    for (const e of [...this.#state.owned]) await e.close();
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

/**
 * Reads and validates a persona JSON file; errors name the file and field (`E_CONFIG`).
 *
 * @example
 * ```ts ignore
 * import { readPersonaFile } from "./model_hub.ts";
 * const persona = await readPersonaFile("examples/quickstart/ada.json");
 * ```
 */
export async function readPersonaFile(file: string): Promise<Persona> {
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

/**
 * A persona read from `file` with its relative local model, adapter and steering-vector paths
 * taken relative to the file where they exist there.
 *
 * @example
 * ```ts ignore
 * import { personaNearFile, readPersonaFile } from "./model_hub.ts";
 * const p = personaNearFile(await readPersonaFile("p/ada.json"), "p/ada.json");
 * ```
 */
export function personaNearFile(persona: Persona, file: string): Persona {
  const near = (p: string) => {
    const abs = resolve(file, "..", p);
    return existsSync(abs) ? abs : p;
  };
  const out = {
    ...persona,
    adapters: persona.adapters.map((a) => ({ ...a, path: near(a.path) })),
    steering: persona.steering.map((e) => isSteererEntry(e) ? e : { ...e, vector: near(e.vector) }),
  };
  const inner = parseModelRef(persona.model);
  if (inner.kind === "local") out.model = near(inner.path);
  return out;
}
