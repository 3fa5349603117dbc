/**
 * Steering mechanics over vector files: the `[L+1, d]` safetensors format, the named-vector
 * registry, the vector Steerer (entries → residual edits) and the resolver local models use.
 *
 * @example
 * ```ts
 * import { steeringBlock } from "./mod.ts";
 * console.log(steeringBlock(20, 36)); // 19
 * ```
 *
 * @module
 */

export * from "./steering_resolver.ts";
export * from "./vector_file.ts";
export * from "./vector_io.ts";
export * from "./vector_steerer.ts";
export * from "./vector_source.ts";
