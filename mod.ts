/**
 * Dramatis: build, steer, simulate and evaluate persona and role-playing language models.
 *
 * @example
 * ```ts
 * import { builtinPlugins, PluginRegistry } from "./mod.ts";
 * const registry = new PluginRegistry();
 * for (const p of builtinPlugins) registry.register(p);
 * ```
 *
 * @module
 */

export * from "./core/mod.ts";
export * from "./plugins/mod.ts";
