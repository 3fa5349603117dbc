/**
 * The `judge` step: calls a plugin judge's `judge(input, context)` on every item of a source —
 * usually the outputs of an earlier step — with an optional model of the experiment as the judge
 * model. Each numeric verdict field becomes a per-item metric (a score distribution).
 *
 * @module
 */

import { z } from "zod";
import type { Judge } from "../../contracts/judge.ts";
import { ID_RULE } from "../experiment_schema.ts";
import type { StepExecutor } from "../step_executor.ts";
import { loadItems, sourceReferences, SourceSchema } from "../work_source.ts";
import { runJudge, summarizeVerdicts } from "./verdicts.ts";

/** The `with` block of a judge step. */
export const JudgeWithSchema = z.object({
  inputs: SourceSchema,
  /** A model id passed to the judge as `context.model`. */
  model: z.string().regex(ID_RULE).optional(),
  /** Scalar fields of dataset records copied into tags (e.g. `["identity"]`). */
  tag_fields: z.array(z.string()).default([]),
  /** Only items with index below this. */
  limit: z.number().int().min(1).optional(),
}).strict();

/** Parsed `with` of a judge step. */
export type JudgeWith = z.infer<typeof JudgeWithSchema>;

/**
 * The judge executor.
 *
 * @example
 * ```json
 * { "id": "score", "kind": "judge", "plugin": "lexicon_judge", "role": "valence",
 *   "with": { "inputs": { "step": "scene", "field": "output" } } }
 * ```
 */
export const judgeStep: StepExecutor<JudgeWith> = {
  kind: "judge",
  description: "score every item of a source (often an earlier step's outputs) with a judge",
  fanOut: true,
  role: "judges",
  with: JudgeWithSchema,
  references: (w) => [
    ...sourceReferences(w.inputs, ["inputs"]),
    ...(w.model ? [{ type: "model" as const, id: w.model, path: ["model"] }] : []),
  ],
  plan: (w, ctx) => loadItems(w.inputs, ctx, w.tag_fields, w.limit),
  async runItem(item, w, ctx) {
    const model = w.model ? await ctx.model(w.model) : undefined;
    const { verdict, metrics } = await runJudge(
      ctx.instance as Judge,
      item.input,
      { model, seed: ctx.seedFor(item.index), signal: ctx.signal },
      item.index,
      item.tags,
    );
    return { output: verdict, metrics };
  },
  summarize: summarizeVerdicts,
};
