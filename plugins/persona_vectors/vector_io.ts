/**
 * Reading and writing persona-vector files and the named-vector registry: the generic mechanics
 * live in core (core/steering); this module keeps the plugin's own import path.
 *
 * @module
 */

export * from "../../core/steering/vector_io.ts";
