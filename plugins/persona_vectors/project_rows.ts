/**
 * Projections of many rows with the local engine (spec B6): per-row metrics onto several vectors,
 * the finetuning shift against a base model on identical text, and projection-difference data
 * screening (training responses against the base model's own responses).
 *
 * @module
 */

import type { Engine } from "../../core/model/engine.ts";
import type { LayerVectors } from "./hidden_states.ts";
import { type PromptAnswer, promptAnswerStates } from "./model_states.ts";
import {
  finetuningShift,
  mean,
  projectionDifference,
  type ProjectionMetrics,
  projectionMetrics,
} from "./projection.ts";
import type { VectorType } from "./vectors.ts";

type Eng = Pick<Engine, "tokenizer" | "forward" | "config">;

/** Per-row metrics by vector name (null when the row has no answer token). */
export type RowProjections = Record<string, ProjectionMetrics | null>[];

/**
 * Projection metrics of every row onto every vector at `layer`.
 *
 * @example
 * ```ts ignore
 * import { projectRows } from "./project_rows.ts";
 * const per = await projectRows(engine, [{ prompt, answer }], { optimistic: v }, 20);
 * console.log(per[0].optimistic?.proj);
 * ```
 */
export async function projectRows(
  engine: Eng,
  rows: readonly PromptAnswer[],
  vectors: Readonly<Record<string, LayerVectors>>,
  layer: number,
  options: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<RowProjections> {
  const out: RowProjections = [];
  const step = (options.batchSize ?? 4) * 4;
  for (let i = 0; i < rows.length; i += step) {
    const states = await promptAnswerStates(engine, rows.slice(i, i + step), {
      batchSize: options.batchSize,
    });
    for (const s of states) {
      const r: Record<string, ProjectionMetrics | null> = {};
      for (const [name, v] of Object.entries(vectors)) {
        r[name] = s.hs ? projectionMetrics(s.hs, s.promptLength, v, layer) : null;
      }
      out.push(r);
    }
    options.onProgress?.(Math.min(i + step, rows.length), rows.length);
  }
  return out;
}

/**
 * Finetuning shift of every row, `(summary_ft − summary_base)·v/|v|` on identical text, per
 * vector, plus the mean over rows.
 *
 * @example
 * ```ts ignore
 * import { finetuningShifts } from "./project_rows.ts";
 * const s = await finetuningShifts(finetuned, base, rows, { critical: v }, 20);
 * console.log(s.mean.critical);
 * ```
 */
export async function finetuningShifts(
  finetuned: Eng,
  base: Eng,
  rows: readonly PromptAnswer[],
  vectors: Readonly<Record<string, LayerVectors>>,
  layer: number,
  type: VectorType = "prompt_last",
  options: { batchSize?: number } = {},
): Promise<{ rows: Record<string, number | null>[]; mean: Record<string, number> }> {
  const per: Record<string, number | null>[] = [];
  const step = (options.batchSize ?? 4) * 4;
  for (let i = 0; i < rows.length; i += step) {
    const chunk = rows.slice(i, i + step);
    const ft = await promptAnswerStates(finetuned, chunk, options);
    const bs = await promptAnswerStates(base, chunk, options);
    ft.forEach((f, k) => {
      const b = bs[k];
      const r: Record<string, number | null> = {};
      for (const [name, v] of Object.entries(vectors)) {
        r[name] = f.hs && b.hs ? finetuningShift(f.hs, b.hs, f.promptLength, v, layer, type) : null;
      }
      per.push(r);
    });
  }
  const m: Record<string, number> = {};
  for (const name of Object.keys(vectors)) {
    m[name] = mean(per.map((r) => r[name]).filter((x): x is number => x !== null));
  }
  return { rows: per, mean: m };
}

/**
 * Data screening: the base model answers each training prompt itself (greedy); the projection
 * difference is mean proj(training answers) − mean proj(own answers), per vector.
 *
 * @example
 * ```ts ignore
 * import { screenData } from "./project_rows.ts";
 * const s = await screenData(base, rows, { evil: v }, 20, { maxNewTokens: 64 });
 * console.log(s.difference.evil);
 * ```
 */
export async function screenData(
  base: Eng & Pick<Engine, "generate">,
  rows: readonly PromptAnswer[],
  vectors: Readonly<Record<string, LayerVectors>>,
  layer: number,
  options: { maxNewTokens?: number; batchSize?: number } = {},
): Promise<{
  difference: Record<string, number>;
  training: Record<string, number>;
  base: Record<string, number>;
  ownAnswers: string[];
}> {
  const ownAnswers: string[] = [];
  for (const r of rows) {
    const ids = base.tokenizer.encode(r.prompt, { addSpecialTokens: false });
    const g = await base.generate({ inputIds: [ids] }, {
      maxNewTokens: options.maxNewTokens ?? 128,
      temperature: 0,
      seed: 0,
    });
    ownAnswers.push(g.completions[0].text);
  }
  const train = await projectRows(base, rows, vectors, layer, options);
  const own = await projectRows(
    base,
    rows.map((r, i) => ({ prompt: r.prompt, answer: ownAnswers[i] })),
    vectors,
    layer,
    options,
  );
  const difference: Record<string, number> = {};
  const training: Record<string, number> = {};
  const baseMean: Record<string, number> = {};
  for (const name of Object.keys(vectors)) {
    const a = train.map((r) => r[name]?.proj).filter((x): x is number => x !== undefined);
    const b = own.map((r) => r[name]?.proj).filter((x): x is number => x !== undefined);
    difference[name] = projectionDifference(a, b);
    training[name] = mean(a);
    baseMean[name] = mean(b);
  }
  return { difference, training, base: baseMean, ownAnswers };
}
