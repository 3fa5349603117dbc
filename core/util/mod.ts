/**
 * Small shared utilities: seeded randomness, atomic writes, progress output.
 *
 * @module
 */

export * from "./atomic.ts";
export * from "./fs.ts";
export * from "./json_extract.ts";
export * from "./progress.ts";
export * from "./prng.ts";
export * from "./zod_issue.ts";
