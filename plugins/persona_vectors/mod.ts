/**
 * The model-independent core of the persona_vectors plugin (persona vectors, arXiv 2507.21509,
 * and the multi-persona follow-up): trait artifacts and their generation, rollout planning, judge
 * scoring and the logprob judge, filtering, vector extraction and files, projection and ablation,
 * cross-trait geometry, and steering. The Plugin object is wired elsewhere once the engine exists.
 *
 * @example
 * ```ts
 * import { keepPair, positionCoefficients, score0to100 } from "./mod.ts";
 * console.log(score0to100([{ token: "90", logprob: 0 }]).score); // 90
 * console.log(keepPair({ trait: 80, coherence: 90 }, { trait: 5, coherence: 90 })); // true
 * console.log(positionCoefficients("response", { phase: "prefill", seqLen: 3 }, 2)); // [0, 0, 2]
 * ```
 *
 * @module
 */

export * from "./filter.ts";
export * from "./generate_trait.ts";
export * from "./geometry.ts";
export * from "./hidden_states.ts";
export * from "./judge_prompts.ts";
export * from "./judge_scoring.ts";
export * from "./options.ts";
export * from "./projection.ts";
export * from "./rollout.ts";
export * from "./steering.ts";
export * from "./trait_artifact.ts";
export * from "./trait_judge.ts";
export * from "./vector_file.ts";
export * from "./vectors.ts";
