/**
 * Human Simulacra (Xie et al., arXiv 2402.18180): a multi-agent cognitive mechanism (memory,
 * thinking, emotion and top agents) over a character's life story, with self-report
 * questionnaires, the Jung cognitive-function test and the bandwagon experiment. The Plugin object
 * is wired by the host; this module exports the parts.
 *
 * @module
 */

export * from "./bandwagon.ts";
export * from "./biography.ts";
export * from "./character_dir.ts";
export * from "./jung.ts";
export * from "./jung_assessment.ts";
export * from "./kendall.ts";
export * from "./memory_build.ts";
export * from "./memory_retrieval.ts";
export * from "./options.ts";
export * from "./profile.ts";
export * from "./profile_generator.ts";
export * from "./questionnaire.ts";
export * from "./rag.ts";
export * from "./simulacrum.ts";
export * from "./simulator.ts";
export * from "./story_expansion.ts";
