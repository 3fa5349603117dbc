/**
 * Book → CoSER book file: chunking, extraction, merging, enhancement, names, profiles.
 *
 * @module
 */

export * from "./chunking.ts";
export * from "./enhance.ts";
export * from "./extraction.ts";
export * from "./merge.ts";
export * from "./names.ts";
export * from "./pipeline.ts";
export * from "./profiles.ts";
export * from "./similarity.ts";
export * from "./tokens.ts";
