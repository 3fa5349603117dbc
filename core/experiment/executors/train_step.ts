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
import type { MetricInput, StepExecutor } from "../step_executor.ts";
import { join } from "node:path";

/** A training run's whole history, from every attempt, merged by step. */
export interface TrainHistory {
  /** loss, lr, tokens_per_second and eval_loss points, one per (name, step), by step. */
  curves: MetricInput[];
  /** The loss of the first step ever run (the first attempt's). */
  firstLoss?: number;
  /** The eval loss at step 0, when it was measured. */
  initialEval?: number;
}

/**
 * Reads a trainer's `metrics.jsonl` (lines `{type: "step"|"eval", step, …}` appended by every
 * attempt; a resumed run has already dropped the lines past its checkpoint) into one history:
 * one point per metric and step, the latest line winning. Undefined when there is no file.
 *
 * @example
 * ```ts ignore
 * import { readTrainHistory } from "./train_step.ts";
 * const h = await readTrainHistory("runs/q/artifacts/pretrain/metrics.jsonl");
 * console.log(h?.firstLoss);
 * ```
 */
export async function readTrainHistory(path: string): Promise<TrainHistory | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  const points = new Map<string, MetricInput>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch {
      continue; // a line cut by a kill mid-write
    }
    const step = r.step;
    if (typeof step !== "number") continue;
    const put = (name: string, value: unknown) => {
      if (typeof value === "number" && Number.isFinite(value)) {
        points.set(`${name}@${step}`, { name, value, x: step });
      }
    };
    if (r.type === "step") {
      put("loss", r.loss);
      put("lr", r.lr);
      put("tokens_per_second", r.tokensPerSecond);
    } else if (r.type === "eval") put("eval_loss", r.loss);
  }
  if (points.size === 0) return undefined;
  const order = ["loss", "lr", "tokens_per_second", "eval_loss"];
  const curves = [...points.values()].sort((a, b) =>
    a.x! - b.x! || order.indexOf(a.name) - order.indexOf(b.name)
  );
  const losses = curves.filter((m) => m.name === "loss");
  return {
    curves,
    firstLoss: losses[0]?.value,
    initialEval: curves.find((m) => m.name === "eval_loss" && m.x === 0)?.value,
  };
}

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
    // Curves are buffered: a resumed run replays only its own steps, so the whole history is
    // taken from the trainer's metrics.jsonl afterwards when there is one.
    const live: MetricInput[] = [];
    const result = await trainer.train({
      model: spec.path,
      data: ctx.datasetPath(w.data),
      out: ctx.artifactsDir,
      config: w.config,
      signal: ctx.signal,
      provider: ctx.models.options.provider,
      threads: ctx.models.options.threads,
      dtype: ctx.models.options.dtype,
      onEvent(event) {
        if (event.type === "step") {
          live.push({ name: "loss", value: event.loss, x: event.step });
          live.push({ name: "lr", value: event.lr, x: event.step });
          if (Number.isFinite(event.tokensPerSecond)) {
            live.push({ name: "tokens_per_second", value: event.tokensPerSecond, x: event.step });
          }
        } else if (event.type === "eval") {
          live.push({ name: "eval_loss", value: event.loss, x: event.step });
        } else if (event.type === "log") ctx.log(event.message);
      },
    });
    const history = await readTrainHistory(join(ctx.artifactsDir, "metrics.jsonl"));
    const curves = history && history.curves.length >= live.length ? history.curves : live;
    for (const m of curves) ctx.metric(m);
    const final = { ...result.metrics };
    if (history?.firstLoss !== undefined && "first_loss" in final) {
      final.first_loss = history.firstLoss;
    }
    if (history?.initialEval !== undefined) final.initial_eval_loss = history.initialEval;
    const metrics = Object.entries(final).filter(([, v]) => Number.isFinite(v)).map((
      [name, value],
    ) => ({ name, value }));
    const output = history ? { ...result, metrics: final } : result;
    return { output, metrics };
  },
};
