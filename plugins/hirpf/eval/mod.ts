/**
 * Evaluation of identity experts (spec A7): BF-marker and profession scales with an interviewer
 * and a majority-voting judge, and the open situational test with identity detection.
 *
 * @example
 * ```ts
 * import { BF_MARKER_100, majorityVote } from "./mod.ts";
 * console.log(BF_MARKER_100.length, majorityVote(["A", "B", "B"])); // 100 "B"
 * ```
 *
 * @module
 */

export * from "./interview.ts";
export * from "./items.ts";
export * from "./prompts.ts";
export * from "./scale_eval.ts";
export * from "./scale_scoring.ts";
export * from "./situational.ts";
