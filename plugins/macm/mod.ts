/**
 * Human Simulacra (Xie et al., arXiv 2402.18180): a multi-agent cognitive mechanism (memory,
 * thinking, emotion and top agents) over a character's life story, with self-report
 * questionnaires, the Jung cognitive-function test and the bandwagon experiment. The Plugin object
 * is `macm()` from `plugin.ts`; this module exports it and the parts.
 *
 * @module
 */

export * from "./backend.ts";
export * from "./bandwagon.ts";
export * from "./biography.ts";
export * from "./character_dir.ts";
export * from "./embeddings.ts";
export * from "./jung.ts";
export * from "./jung_assessment.ts";
export * from "./judges.ts";
export * from "./kendall.ts";
export * from "./memory_build.ts";
export * from "./memory_retrieval.ts";
export * from "./model_spec.ts";
export * from "./options.ts";
export { macm } from "./plugin.ts";
export * from "./profile.ts";
export * from "./profile_generator.ts";
export * from "./questionnaire.ts";
export * from "./rag.ts";
export * from "./simulacrum.ts";
export * from "./simulator.ts";
export * from "./story_expansion.ts";
