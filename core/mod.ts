/**
 * The Dramatis core, the API plugins are written against (the built-in ones and third-party
 * ones alike): the five contracts (adapter, trainer, steerer, simulator, judge), ChatModel,
 * Persona and Plugin; the services a plugin is handed (model hub, model references, training
 * driver, steering); the engine, training, chat, persona and runtime libraries underneath; the
 * error table; the plugin registry; shared utilities. The host (CLI and server) is not part of it.
 *
 * @example
 * ```ts
 * import { PluginRegistry } from "./mod.ts";
 * const registry = new PluginRegistry();
 * console.log(registry.names());
 * ```
 *
 * @module
 */

export * from "./contracts/mod.ts";
export * from "./errors.ts";
export * from "./plugin/mod.ts";
export * from "./util/mod.ts";
export * from "./services/mod.ts";
export * from "./steering/mod.ts";
export * from "./chat/mod.ts";
export * from "./model/mod.ts";
export * from "./train/mod.ts";
export * from "./persona/mod.ts";
export * from "./runtime/mod.ts";
export * from "./experiment/mod.ts";
export * from "./human_eval/mod.ts";
export * from "./report/mod.ts";
// The engine's tokenizer has a narrower ChatMessage; the contract's is the public one.
export type { ChatMessage } from "./contracts/chat_model.ts";
