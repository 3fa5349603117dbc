/**
 * The services core hands to verbs and plugins: the one model-reference parser, the model hub
 * that builds every engine and ChatModel, and the response-cached model resolver.
 *
 * @example
 * ```ts
 * import { parseModelRef } from "./mod.ts";
 * console.log(parseModelRef("openai:gpt-4o-mini").kind); // "openai"
 * ```
 *
 * @module
 */

export * from "./embedder.ts";
export * from "./model_hub.ts";
export * from "./model_ref.ts";
export * from "./model_resolver.ts";
export * from "./registry_steering.ts";
export * from "./plugin_context.ts";
export * from "./training_driver.ts";
