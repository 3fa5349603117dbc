/**
 * The step executors and the default table (kind → executor). Add a step kind by adding an
 * executor to a table and passing it to `runExperiment`.
 *
 * @module
 */

import type { ExecutorTable } from "../step_executor.ts";
import { commandStep } from "./command_step.ts";
import { judgeStep } from "./judge_step.ts";
import { simulateStep } from "./simulate_step.ts";
import { steerStep } from "./steer_step.ts";
import { trainStep } from "./train_step.ts";

export * from "./command_step.ts";
export * from "./judge_step.ts";
export * from "./simulate_step.ts";
export * from "./steer_step.ts";
export * from "./train_step.ts";
export * from "./verdicts.ts";

/**
 * The built-in executors, one per step kind.
 *
 * @example
 * ```ts
 * import { DEFAULT_EXECUTORS } from "./mod.ts";
 * console.log(Object.keys(DEFAULT_EXECUTORS)); // ["train", "extract", "steer", "simulate", "judge", "custom"]
 * ```
 */
export const DEFAULT_EXECUTORS: ExecutorTable = {
  train: trainStep,
  extract: commandStep("extract", "extract"),
  steer: steerStep,
  simulate: simulateStep,
  judge: judgeStep,
  custom: commandStep("custom"),
};
