/**
 * Judging rollout rows (spec B3): the trait and coherence scores of every row, null verdicts
 * counted with their reasons.
 *
 * @module
 */

import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { Judge } from "../../core/contracts/judge.ts";
import type { StoredRow } from "./rows_file.ts";
import type { JudgeInput, JudgeValue } from "./trait_judge.ts";

/** Null counts of one judging run. */
export interface JudgeRowsStats {
  rows: number;
  traitNulls: number;
  coherenceNulls: number;
  /** Null reasons (numbers masked) with counts, per judge. */
  reasons: { trait: Record<string, number>; coherence: Record<string, number> };
  meanTrait: number | null;
  meanCoherence: number | null;
}

/** Options of {@link judgeRows}. */
export interface JudgeRowsOptions {
  trait: Judge<JudgeInput, JudgeValue>;
  coherence?: Judge<JudgeInput, JudgeValue>;
  /** Passed as `context.model` (judges over a ChatModel). */
  model?: ChatModel;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Scores every row in place and returns the null counts. The question judged is the raw user
 * question (no system prompt), as upstream.
 *
 * @example
 * ```ts ignore
 * import { judgeRows } from "./judge_rows.ts";
 * const stats = await judgeRows(rows, { trait, coherence, model: judgeModel });
 * console.log(stats.traitNulls, stats.coherenceNulls);
 * ```
 */
export async function judgeRows(
  rows: StoredRow[],
  options: JudgeRowsOptions,
): Promise<JudgeRowsStats> {
  const stats: JudgeRowsStats = {
    rows: rows.length,
    traitNulls: 0,
    coherenceNulls: 0,
    reasons: { trait: {}, coherence: {} },
    meanTrait: null,
    meanCoherence: null,
  };
  const ctx = { model: options.model, seed: options.seed ?? 0, signal: options.signal };
  const count = (which: "trait" | "coherence", reason: string) => {
    const key = reason.replace(/[0-9.]+/g, "#");
    stats.reasons[which][key] = (stats.reasons[which][key] ?? 0) + 1;
  };
  for (const [i, r] of rows.entries()) {
    options.signal?.throwIfAborted();
    const input = { question: r.question, answer: r.answer };
    const t = await options.trait.judge(input, ctx);
    r.trait = t.value?.score ?? null;
    if (t.value === null) {
      stats.traitNulls++;
      count("trait", t.reason);
    }
    if (options.coherence) {
      const c = await options.coherence.judge(input, ctx);
      r.coherence = c.value?.score ?? null;
      if (c.value === null) {
        stats.coherenceNulls++;
        count("coherence", c.reason);
      }
    }
    options.onProgress?.(i + 1, rows.length);
  }
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  stats.meanTrait = mean(rows.map((r) => r.trait));
  stats.meanCoherence = options.coherence ? mean(rows.map((r) => r.coherence)) : null;
  return stats;
}
