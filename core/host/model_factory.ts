/**
 * The host's ChatModel factory for experiments and the server: it turns a model entry into a
 * ChatModel, loading local models once per process and wiring the steering resolver and the
 * constraint compiler into them.
 *
 * @module
 */

import { LocalChatModel, type LocalChatModelOptions } from "../chat/local_chat_model.ts";
import { OpenAIChatModel } from "../chat/openai_chat_model.ts";
import { withRetry } from "../chat/with_retry.ts";
import type { Adapter } from "../contracts/adapter.ts";
import type { ChatModel } from "../contracts/chat_model.ts";
import type { Persona, PersonaAdapter } from "../contracts/persona.ts";
import type { Projector, SteeringResolver } from "../chat/local_chat_model.ts";
import { basename } from "node:path";
import type { LayerVectors } from "../../plugins/persona_vectors/hidden_states.ts";
import { projectResponse } from "../../plugins/persona_vectors/project_response.ts";
import { loadVectorFile } from "../../plugins/persona_vectors/vector_io.ts";
import {
  createSteeringResolver,
  steeringResolver,
} from "../../plugins/persona_vectors/steering_resolver.ts";
import { PersonaChatModel } from "../persona/persona_chat_model.ts";
import { withCode } from "../errors.ts";
import type { ChatModelFactory, ModelRequest } from "../experiment/model_pool.ts";
import { Engine } from "../model/engine.ts";
import { parseWeightFormat } from "../model/quantize.ts";
import type { PluginRegistry } from "../plugin/registry.ts";
import type { Provider } from "../runtime/providers.ts";

/** Options shared by every local model the factory loads. */
export interface HostModelOptions
  extends Pick<LocalChatModelOptions, "steering" | "constraint" | "project"> {
  provider?: Provider;
  threads?: number;
  /**
   * How the model's frozen weights are stored (`f32`, `f16`, `bf16`, `int8`, `int4`, `int4:128`;
   * default `DRAMATIS_DTYPE` or `f32`).
   */
  dtype?: string;
  /** Resolves persona adapters (`{plugin, path}`) through the plugins' adapter factories. */
  registry?: PluginRegistry;
  /** Where exported graphs are cached (the engine's default otherwise). */
  cacheDir?: string;
}

/** The steering resolver the host uses unless told otherwise: persona_vectors' vector files. */
export const defaultSteering: SteeringResolver = steeringResolver;

/** The projector the host uses: persona_vectors' `projectResponse` over vector files. */
export const defaultProjector: Projector = async (engine, messages, answer, p) => {
  const vectors: Record<string, LayerVectors> = {};
  for (const path of p.vectors) {
    vectors[basename(path).replace(/\.safetensors$/, "")] = await loadVectorFile(path);
  }
  return projectResponse(engine, messages, answer, vectors, p.layer, { metric: p.metric });
};

/**
 * Steering and projections whose vector references are ids that `locate` turns into file paths
 * (the server's `--vectors` directory), so a request can never name an arbitrary file.
 *
 * @example
 * ```ts ignore
 * import { vectorsFrom } from "./model_factory.ts";
 * const options = vectorsFrom(async (id) => `./vectors/${id}.safetensors`);
 * ```
 */
export function vectorsFrom(
  locate: (id: string) => Promise<string>,
): Required<Pick<HostModelOptions, "steering" | "project">> {
  const steering = createSteeringResolver({
    loadVector: async (id) => loadVectorFile(await locate(id)),
    cache: false,
  });
  const project: Projector = async (engine, messages, answer, p) => {
    const vectors: Record<string, LayerVectors> = {};
    for (const id of p.vectors) vectors[id] = await loadVectorFile(await locate(id));
    return projectResponse(engine, messages, answer, vectors, p.layer, { metric: p.metric });
  };
  return { steering, project };
}

const engines = new Map<string, Promise<Engine>>();

async function loadAdapters(
  model: string,
  refs: readonly PersonaAdapter[],
  registry: PluginRegistry | undefined,
): Promise<Adapter[]> {
  const adapters: Adapter[] = [];
  for (const [i, ref] of refs.entries()) {
    if (!registry?.has(ref.plugin)) {
      throw withCode(
        new TypeError(
          `adapter ${i} names plugin '${ref.plugin}', which is not loaded; load it with --plugin ` +
            "or fix the persona's adapters",
        ),
        "E_PLUGIN_UNKNOWN",
      );
    }
    const roles = await registry.instantiate(ref.plugin);
    const factory = Object.values(roles.adapters ?? {})[0];
    if (!factory) {
      throw withCode(
        new TypeError(`adapter ${i}: plugin '${ref.plugin}' provides no adapter`),
        "E_CONFIG",
      );
    }
    // A second adapter of the same kind needs its own parameter prefix in the graph.
    const repeat = refs.slice(0, i).some((r) => r.plugin === ref.plugin);
    adapters.push(
      await factory({ model, path: ref.path, ...(repeat ? { name: `${ref.plugin}_${i}` } : {}) }),
    );
  }
  return adapters;
}

/**
 * Loads (once per process, path and adapter set) an engine with steering inputs, so per-request
 * steering works, and with the given saved adapters built into its graph.
 *
 * @example
 * ```ts ignore
 * import { sharedEngine } from "./model_factory.ts";
 * const engine = await sharedEngine("./tiny");
 * ```
 */
export function sharedEngine(
  path: string,
  options: HostModelOptions = {},
  adapters: readonly PersonaAdapter[] = [],
): Promise<Engine> {
  const key = JSON.stringify([
    path,
    options.provider ?? "cpu",
    options.cacheDir,
    adapters,
    options.dtype ?? null,
  ]);
  let engine = engines.get(key);
  if (!engine) {
    engine = loadAdapters(path, adapters, options.registry).then((list) =>
      Engine.load(path, {
        provider: options.provider,
        threads: options.threads,
        dtype: options.dtype,
        steering: true,
        adapters: list,
        cacheDir: options.cacheDir,
      })
    );
    engines.set(key, engine);
    engine.catch(() => engines.delete(key));
  }
  return engine;
}

/** Closes every engine the factory loaded. */
export async function closeSharedEngines(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  for (const e of all) await (await e.catch(() => null))?.close();
}

/**
 * The ChatModel a persona's base model runs on: `openai:<model>` goes to an OpenAI-compatible
 * endpoint (OPENAI_BASE_URL / OPENAI_API_KEY), anything else loads the local engine.
 *
 * @example
 * ```ts ignore
 * import { baseModelFor } from "./model_factory.ts";
 * const model = await baseModelFor("./tiny", "tiny");
 * ```
 */
export async function baseModelFor(
  model: string,
  id: string,
  options: HostModelOptions = {},
  adapters: readonly PersonaAdapter[] = [],
): Promise<ChatModel> {
  if (model.startsWith("openai:")) {
    if (adapters.length) {
      throw withCode(
        new TypeError(
          `${id}: adapters need a local model, not ${model}; drop them or use a local model`,
        ),
        "E_CONFIG",
      );
    }
    return withRetry(new OpenAIChatModel({ model: model.slice("openai:".length) }));
  }
  const engine = await sharedEngine(model, options, adapters);
  return new LocalChatModel(engine, {
    id,
    steering: options.steering ?? defaultSteering,
    constraint: options.constraint,
    project: options.project ?? defaultProjector,
  });
}

/**
 * The server's backend for a persona (the server wraps it with the persona itself).
 *
 * @example
 * ```ts ignore
 * import { personaBackend } from "./model_factory.ts";
 * const backend = personaBackend({});
 * ```
 */
export function personaBackend(
  options: HostModelOptions = {},
  registry?: PluginRegistry,
): (persona: Persona) => Promise<ChatModel> {
  return async (persona) => {
    // The id names the adapters too: cache keys must tell two adapted models apart.
    const id = [persona.model, ...persona.adapters.map((a) => `${a.plugin}:${a.path}`)].join("+");
    const base = await baseModelFor(
      persona.model,
      id,
      { registry, ...options },
      persona.adapters,
    );
    if (!persona.backend) return base;
    const { plugin, options: backendOptions } = persona.backend;
    if (!registry?.has(plugin)) {
      throw withCode(
        new TypeError(
          `persona ${persona.name} asks for the '${plugin}' backend, but no plugin of that name is ` +
            "loaded; load it with --plugin or remove the backend field",
        ),
        "E_PLUGIN_UNKNOWN",
      );
    }
    const roles = await registry.instantiate(plugin);
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
    return factory(persona, base, backendOptions);
  };
}

/**
 * Builds the host's factory for experiment model entries: `local` (the engine), `openai` (an
 * OpenAI-compatible endpoint, with retries) and `persona` (a persona on its base model).
 *
 * @example
 * ```ts ignore
 * import { hostModelFactory } from "./model_factory.ts";
 * const factory = hostModelFactory();
 * ```
 */
export function hostModelFactory(
  options: HostModelOptions = {},
  registry?: PluginRegistry,
): ChatModelFactory {
  const backend = personaBackend(options, registry);
  return async (request: ModelRequest): Promise<ChatModel> => {
    const { spec } = request;
    switch (spec.kind) {
      case "local":
        return baseModelFor(spec.path, request.id, {
          registry,
          ...options,
          ...localModelOptions(request.id, spec.options),
        });
      case "openai": {
        const apiKey = spec.api_key_env ? Deno.env.get(spec.api_key_env) : undefined;
        if (spec.api_key_env && !apiKey) {
          throw withCode(
            new TypeError(
              `model '${request.id}': environment variable ${spec.api_key_env} is not set; ` +
                "export it with the API key",
            ),
            "E_CONFIG",
          );
        }
        return withRetry(
          new OpenAIChatModel({ baseURL: spec.base_url, model: spec.model, apiKey }),
        );
      }
      case "persona": {
        const persona = request.persona!;
        return new PersonaChatModel(persona, await backend(persona));
      }
    }
  };
}

/**
 * The engine settings an experiment's `local` model entry may carry in `options`: `dtype`
 * (`f32`, `f16`, `bf16`, `int8`, `int4`, `int4:128`) and `threads`.
 *
 * @example
 * ```ts
 * import { localModelOptions } from "./model_factory.ts";
 * console.log(localModelOptions("m", { dtype: "int4" })); // { dtype: "int4" }
 * ```
 */
export function localModelOptions(
  id: string,
  options: Record<string, unknown> | undefined,
): Pick<HostModelOptions, "dtype" | "threads"> {
  const out: Pick<HostModelOptions, "dtype" | "threads"> = {};
  const { dtype, threads } = options ?? {};
  if (dtype !== undefined) {
    if (typeof dtype !== "string") {
      throw withCode(
        new TypeError(`model '${id}': options.dtype is ${JSON.stringify(dtype)}; use a string`),
        "E_CONFIG",
      );
    }
    try {
      parseWeightFormat(dtype, `model '${id}': options.dtype`);
    } catch (e) {
      throw withCode(e as Error, "E_CONFIG");
    }
    out.dtype = dtype;
  }
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || (threads as number) < 1) {
      throw withCode(
        new TypeError(
          `model '${id}': options.threads is ${JSON.stringify(threads)}; use a whole number >= 1`,
        ),
        "E_CONFIG",
      );
    }
    out.threads = threads as number;
  }
  return out;
}
