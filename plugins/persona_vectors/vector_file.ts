/**
 * Persona vectors on disk: the generic vector-file format lives in core (core/steering); this
 * module keeps the plugin's own import path.
 *
 * @module
 */

export * from "../../core/steering/vector_file.ts";
