/**
 * The host's ChatModel factory for experiments and the server: it turns a model entry into a
 * ChatModel, loading local models once per process and wiring the steering resolver and the
 * constraint compiler into them.
 *
 * @module
 */

import { LocalChatModel, type LocalChatModelOptions } from "../chat/local_chat_model.ts";
import type { ChatModel } from "../contracts/chat_model.ts";
import { withCode } from "../errors.ts";
import type { ChatModelFactory, ModelRequest } from "../experiment/model_pool.ts";
import { Engine } from "../model/engine.ts";
import type { Provider } from "../runtime/providers.ts";

/** Options shared by every local model the factory loads. */
export interface HostModelOptions extends Pick<LocalChatModelOptions, "steering" | "constraint"> {
  provider?: Provider;
  threads?: number;
}

const engines = new Map<string, Promise<Engine>>();

/**
 * Loads (once per process and path) an engine with steering inputs, so per-request steering works.
 *
 * @example
 * ```ts ignore
 * import { sharedEngine } from "./model_factory.ts";
 * const engine = await sharedEngine("./tiny");
 * ```
 */
export function sharedEngine(path: string, options: HostModelOptions = {}): Promise<Engine> {
  const key = `${path}|${options.provider ?? "cpu"}`;
  let engine = engines.get(key);
  if (!engine) {
    engine = Engine.load(path, {
      provider: options.provider,
      threads: options.threads,
      steering: true,
    });
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
 * Builds the host's factory.
 *
 * @example
 * ```ts ignore
 * import { hostModelFactory } from "./model_factory.ts";
 * const factory = hostModelFactory();
 * ```
 */
export function hostModelFactory(options: HostModelOptions = {}): ChatModelFactory {
  return async (request: ModelRequest): Promise<ChatModel> => {
    const { spec } = request;
    if (spec.kind === "local") {
      const engine = await sharedEngine(spec.path, options);
      return new LocalChatModel(engine, {
        id: request.id,
        steering: options.steering,
        constraint: options.constraint,
      });
    }
    throw withCode(
      new TypeError(
        `model '${request.id}' has kind '${spec.kind}', which this version cannot build yet; ` +
          "use a model of kind 'local'",
      ),
      "E_NOT_AVAILABLE",
    );
  };
}
