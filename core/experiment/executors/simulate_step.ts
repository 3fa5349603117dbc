/**
 * The `simulate` step: calls a plugin simulator's `simulate(input, context)` on every item of a
 * source, with the experiment's models bound to the simulator's role names. Each transcript is one
 * output record; its turn count is a metric.
 *
 * @module
 */

import { z } from "zod";
import type { ChatModel } from "../../contracts/chat_model.ts";
import type { Simulator } from "../../contracts/simulator.ts";
import { ID_RULE } from "../experiment_schema.ts";
import type { StepExecutor } from "../step_executor.ts";
import { loadItems, sourceReferences, SourceSchema } from "../work_source.ts";

/** The `with` block of a simulate step. */
export const SimulateWithSchema = z.object({
  inputs: SourceSchema,
  /** Simulator role name → model id, e.g. `{ "actor": "persona_a", "environment": "gpt" }`. */
  models: z.record(z.string(), z.string().regex(ID_RULE)),
  /** Scalar fields of dataset records copied into tags (e.g. `["identity"]`). */
  tag_fields: z.array(z.string()).default([]),
  /** Only items with index below this. */
  limit: z.number().int().min(1).optional(),
}).strict();

/** Parsed `with` of a simulate step. */
export type SimulateWith = z.infer<typeof SimulateWithSchema>;

/**
 * The simulate executor.
 *
 * @example
 * ```json
 * { "id": "dialogues", "kind": "simulate", "plugin": "roleplay", "role": "user_simulator",
 *   "with": { "inputs": "goals", "models": { "user": "gpt", "assistant": "ada" } } }
 * ```
 */
export const simulateStep: StepExecutor<SimulateWith> = {
  kind: "simulate",
  description: "run a simulator on every item of a source with models bound to its roles",
  fanOut: true,
  role: "simulators",
  with: SimulateWithSchema,
  references: (w) => [
    ...sourceReferences(w.inputs, ["inputs"]),
    ...Object.entries(w.models).map(([role, id]) => ({
      type: "model" as const,
      id,
      path: ["models", role],
    })),
  ],
  check(w, target) {
    const sim = target.instance as Simulator;
    const missing = (sim.roles ?? []).filter((r) => !(r in w.models));
    if (missing.length) {
      return {
        path: ["models"],
        message: `simulator '${sim.name}' needs a model for role(s) ${
          missing.map((m) => `'${m}'`).join(", ")
        }; map each to a model id`,
      };
    }
    return undefined;
  },
  plan: (w, ctx) => loadItems(w.inputs, ctx, w.tag_fields, w.limit),
  async runItem(item, w, ctx) {
    const models: Record<string, ChatModel> = {};
    for (const [role, id] of Object.entries(w.models)) models[role] = await ctx.model(id);
    const transcript = await (ctx.instance as Simulator).simulate(item.input, {
      models,
      seed: ctx.seedFor(item.index),
      signal: ctx.signal,
    });
    return {
      output: transcript,
      metrics: [{
        name: "turns",
        value: transcript.turns.length,
        index: item.index,
        ...(item.tags ? { tags: item.tags } : {}),
      }],
    };
  },
  summarize(records) {
    const turns = records.map((r) => (r.output as { turns?: unknown[] })?.turns?.length ?? 0);
    const total = turns.reduce((a, b) => a + b, 0);
    return { items: records.length, "mean.turns": records.length ? total / records.length : 0 };
  },
};
