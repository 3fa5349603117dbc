/**
 * Conformance suites, one per role, for plugin tests to call.
 *
 * @module
 */

export * from "./adapter.ts";
export * from "./judge.ts";
export * from "./simulator.ts";
export * from "./steerer.ts";
export * from "./trainer.ts";
