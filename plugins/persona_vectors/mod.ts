/**
 * The persona_vectors plugin (persona vectors, arXiv 2507.21509, and the multi-persona
 * follow-up): the Plugin object and its commands, and the library underneath — trait artifacts
 * and their generation, rollouts, judge scoring (logprob and local number-token judges),
 * filtering, vector extraction and files, steering (Steerer and the host's steering resolver),
 * projection and per-response monitoring, cross-trait geometry and heatmaps.
 *
 * @example
 * ```ts
 * import { keepPair, personaVectors, positionCoefficients, score0to100 } from "./mod.ts";
 * console.log(personaVectors().name); // "persona_vectors"
 * console.log(score0to100([{ token: "90", logprob: 0 }]).score); // 90
 * console.log(keepPair({ trait: 80, coherence: 90 }, { trait: 5, coherence: 90 })); // true
 * console.log(positionCoefficients("response", { phase: "prefill", seqLen: 3 }, 2)); // [0, 0, 2]
 * ```
 *
 * @module
 */

export * from "./extract_vectors.ts";
export * from "./filter.ts";
export * from "./generate_trait.ts";
export * from "./geometry.ts";
export * from "./heatmap.ts";
export * from "./hidden_states.ts";
export * from "./judge_prompts.ts";
export * from "./judge_rows.ts";
export * from "./judge_scoring.ts";
export * from "./local_judge.ts";
export * from "./model_states.ts";
export * from "./options.ts";
export * from "./plugin.ts";
export * from "./projection_model.ts";
export * from "./project_response.ts";
export * from "./project_rows.ts";
export * from "./projection.ts";
export * from "./rollout.ts";
export * from "./rows_file.ts";
export * from "./run_rollouts.ts";
export * from "./steering.ts";
export * from "./steering_resolver.ts";
export * from "./trait_artifact.ts";
export * from "./trait_judge.ts";
export * from "./vector_file.ts";
export * from "./vector_io.ts";
export * from "./vectors.ts";
export { PERSONA_VECTORS_COMMANDS } from "./commands/mod.ts";
