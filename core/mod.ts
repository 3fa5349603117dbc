/**
 * The Dramatis core: the five contracts (adapter, trainer, steerer, simulator, judge), ChatModel,
 * Persona and Plugin; the error table; the plugin registry; shared utilities.
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
