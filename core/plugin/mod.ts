/**
 * Plugin registry, structural checks and option validation.
 *
 * @module
 */

export * from "./registry.ts";
export * from "./validate.ts";
