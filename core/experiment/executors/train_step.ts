/**
 * The `train` step: calls a plugin trainer's `train(request)` once with a model of the experiment
 * (kind `local`), a dataset and the trainer's config. Training events become metrics: `loss`,
 * `lr` and `tokens_per_second` per step (x = step), `eval_loss` per evaluation, and the final
 * metrics of the result without x. The adapter and checkpoints go to the step's artifacts folder.
 *
 * @module
 */

import { z } from "zod";
import type { Trainer } from "../../contracts/trainer.ts";
import { withCode } from "../../errors.ts";
import { ID_RULE } from "../experiment_schema.ts";
import type { StepExecutor } from "../step_executor.ts";

/** The `with` block of a train step. */
export const TrainWithSchema = z.object({
  /** A model id of kind `local`. */
  model: z.string().regex(ID_RULE),
  /** A dataset id. */
  data: z.string().regex(ID_RULE),
  /** The trainer's own config, validated by the trainer. */
  config: z.record(z.string(), z.unknown()).default({}),
}).strict();

/** Parsed `with` of a train step. */
export type TrainWith = z.infer<typeof TrainWithSchema>;

/**
 * The train executor.
 *
 * @example
 * ```json
 * { "id": "experts", "kind": "train", "plugin": "hirpf", "role": "experts",
 *   "with": { "model": "base", "data": "his", "config": { "epochs": 1 } } }
 * ```
 */
export const trainStep: StepExecutor<TrainWith> = {
  kind: "train",
  description: "train an adapter with a plugin trainer; loss curves become metrics",
  fanOut: false,
  role: "trainers",
  with: TrainWithSchema,
  references: (w) => [
    { type: "model", id: w.model, path: ["model"] },
    { type: "dataset", id: w.data, path: ["data"] },
  ],
  plan: () => Promise.resolve([{ index: 0, key: "train", input: null }]),
  async runItem(_item, w, ctx) {
    const spec = ctx.experiment.models[w.model];
    if (spec?.kind !== "local") {
      throw withCode(
        new TypeError(
          `step '${ctx.step.id}': with.model is "${w.model}", a model of kind '${spec?.kind}'; ` +
            "training needs a model of kind 'local' (a model directory or hub id)",
        ),
        "E_CONFIG",
      );
    }
    const trainer = ctx.instance as Trainer;
    const result = await trainer.train({
      model: spec.path,
      data: ctx.datasetPath(w.data),
      out: ctx.artifactsDir,
      config: w.config,
      signal: ctx.signal,
      provider: ctx.models.options.provider,
      threads: ctx.models.options.threads,
      onEvent(event) {
        if (event.type === "step") {
          ctx.metric({ name: "loss", value: event.loss, x: event.step });
          ctx.metric({ name: "lr", value: event.lr, x: event.step });
          if (Number.isFinite(event.tokensPerSecond)) {
            ctx.metric({ name: "tokens_per_second", value: event.tokensPerSecond, x: event.step });
          }
        } else if (event.type === "eval") {
          ctx.metric({ name: "eval_loss", value: event.loss, x: event.step });
        } else if (event.type === "log") ctx.log(event.message);
      },
    });
    const metrics = Object.entries(result.metrics).filter(([, v]) => Number.isFinite(v)).map((
      [name, value],
    ) => ({ name, value }));
    return { output: result, metrics };
  },
};
