/**
 * Learning-rate schedules: linear warmup, then linear, cosine or constant decay.
 *
 * @module
 */

import { withCode } from "../errors.ts";

/** Schedule settings. */
export interface ScheduleOptions {
  /** Peak learning rate. */
  lr: number;
  /** Total optimizer steps. */
  totalSteps: number;
  /** Steps of linear warmup from lr/warmupSteps up to lr. Default 0. */
  warmupSteps?: number;
  /** Decay after warmup. Default `linear`. */
  decay?: "linear" | "cosine" | "constant";
  /** The final learning rate as a fraction of the peak. Default 0. */
  minLrRatio?: number;
}

/**
 * The learning rate of optimizer step `step` (0-based).
 *
 * @example
 * ```ts
 * import { learningRate } from "./schedule.ts";
 * const o = { lr: 1e-3, totalSteps: 100, warmupSteps: 10, decay: "cosine" as const };
 * console.log(learningRate(0, o), learningRate(9, o), learningRate(99, o));
 * ```
 */
export function learningRate(step: number, options: ScheduleOptions): number {
  const { lr, totalSteps } = options;
  const warmup = options.warmupSteps ?? 0;
  const min = lr * (options.minLrRatio ?? 0);
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const span = Math.max(1, totalSteps - warmup);
  const t = Math.min(1, (step - warmup) / span);
  switch (options.decay ?? "linear") {
    case "constant":
      return lr;
    case "cosine":
      return min + (lr - min) * 0.5 * (1 + Math.cos(Math.PI * t));
    case "linear":
      return lr - (lr - min) * t;
  }
}

/** Validates schedule settings up front; throws RangeError (E_CONFIG) naming the field. */
export function checkSchedule(options: ScheduleOptions): void {
  const fail = (m: string) => {
    throw withCode(new RangeError(m), "E_CONFIG");
  };
  if (!(options.lr > 0) || !Number.isFinite(options.lr)) {
    fail(`lr is ${options.lr}; pass a positive number such as 2e-4`);
  }
  if (!Number.isInteger(options.totalSteps) || options.totalSteps < 1) {
    fail(`totalSteps is ${options.totalSteps}; pass a whole number >= 1`);
  }
  const w = options.warmupSteps ?? 0;
  if (!Number.isInteger(w) || w < 0) fail(`warmupSteps is ${w}; pass a whole number >= 0`);
  const d = options.decay ?? "linear";
  if (!["linear", "cosine", "constant"].includes(d)) {
    fail(`decay is ${JSON.stringify(d)}; use linear, cosine or constant`);
  }
  const r = options.minLrRatio ?? 0;
  if (!(r >= 0 && r <= 1)) fail(`minLrRatio is ${r}; pass a fraction in [0, 1]`);
}
