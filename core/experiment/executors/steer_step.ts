/**
 * The `steer` step: a steering sweep. For every layer × coefficient × prompt it asks a model of
 * the experiment for a reply with a steering entry on the request (the ChatModel `steering`
 * field), then scores the reply with the step's judge. Verdict numbers become metrics tagged with
 * `layer` and `coefficient`, which the report draws as dose–response curves.
 *
 * With `identity_sets` the step also (or instead, without a `vector`) sweeps the identities the
 * model wears (the `identities` request extension, e.g. hirpf identity experts): every item is
 * tagged `identities` with the set joined by `+`, or `none` for the empty set (the base model).
 * `samples` asks each prompt several times with distinct seeds, for rates under sampling.
 *
 * Layer convention: `layers` are Hugging Face `hidden_states` indices 1..numLayers; the edit
 * applies to the residual stream after block L-1 (hook `layers.{L-1}.out`), before the final norm
 * even at L = numLayers (where `hidden_states[L]` is read after it).
 *
 * @module
 */

import { z } from "zod";
import type { Judge } from "../../contracts/judge.ts";
import { withCode } from "../../errors.ts";
import { ID_RULE } from "../experiment_schema.ts";
import type { StepExecutor, WorkItem } from "../step_executor.ts";
import { loadItems, sourceReferences, SourceSchema } from "../work_source.ts";
import { runJudge, summarizeVerdicts } from "./verdicts.ts";

/** The `with` block of a steer step. */
export const SteerWithSchema = z.object({
  /** The model id that answers (a local model or persona, or a server that accepts steering). */
  model: z.string().regex(ID_RULE),
  /** Persona vector file `[layers+1, hidden]` or a registered vector name; templates allowed. */
  vector: z.string().min(1).optional(),
  /** Hugging Face hidden-state indices (1..numLayers); required with `vector`. */
  layers: z.array(z.number().int().min(1)).min(1).optional(),
  /** Steering coefficients; required with `vector`. */
  coefficients: z.array(z.number()).min(1).optional(),
  /** Identity sets the model wears, one sweep cell each (`[]` = none: the base model). */
  identity_sets: z.array(z.array(z.string().min(1))).min(1).optional(),
  /** Replies per prompt and cell, each with its own seed. */
  samples: z.number().int().min(1).default(1),
  /** Prompts: strings, or records with `prompt` (string) or `messages` (chat messages). */
  prompts: SourceSchema,
  positions: z.enum(["all", "prompt", "response"]).default("response"),
  type: z.enum(["add", "ablate"]).default("add"),
  /** The model passed to the judge as `context.model`. */
  judge_model: z.string().regex(ID_RULE).optional(),
  /** What the judge receives: the reply text, `{prompt, response}`, or a two-turn transcript. */
  judge_input: z.enum(["text", "pair", "transcript"]).default("pair"),
  max_tokens: z.number().int().min(1).default(128),
  temperature: z.number().min(0).default(0),
}).strict().superRefine((w, ctx) => {
  if (w.vector && (!w.layers || !w.coefficients)) {
    ctx.addIssue({
      code: "custom",
      path: [w.layers ? "coefficients" : "layers"],
      message: "a steering sweep with a vector needs layers and coefficients",
    });
  }
  if (!w.vector && (w.layers || w.coefficients)) {
    ctx.addIssue({
      code: "custom",
      path: ["vector"],
      message: "layers and coefficients need a vector to steer with",
    });
  }
  if (!w.vector && !w.identity_sets) {
    ctx.addIssue({
      code: "custom",
      path: ["vector"],
      message: "give a vector (steering sweep) or identity_sets (identity sweep), or both",
    });
  }
});

/** Parsed `with` of a steer step. */
export type SteerWith = z.infer<typeof SteerWithSchema>;

type Message = { role: "system" | "user" | "assistant"; content: string };

function messagesOf(input: unknown, step: string, index: number): Message[] {
  if (typeof input === "string") return [{ role: "user", content: input }];
  const r = (input ?? {}) as { prompt?: unknown; messages?: unknown };
  if (typeof r.prompt === "string") return [{ role: "user", content: r.prompt }];
  if (Array.isArray(r.messages)) return r.messages as Message[];
  throw withCode(
    new TypeError(
      `step '${step}': prompt #${index} is ${
        JSON.stringify(input)?.slice(0, 60)
      }; give a string, {prompt} or {messages}`,
    ),
    "E_DATA",
  );
}

/**
 * The steer executor.
 *
 * @example
 * ```json
 * { "id": "sweep", "kind": "steer", "plugin": "persona_vectors", "role": "trait",
 *   "with": { "model": "base", "vector": "{{artifacts.extract}}/evil.safetensors",
 *             "layers": [8, 12, 16], "coefficients": [0, 1, 2], "prompts": "questions" } }
 * ```
 */
export const steerStep: StepExecutor<SteerWith> = {
  kind: "steer",
  description: "sweep steering layer × coefficient over prompts and judge the steered replies",
  fanOut: true,
  role: "judges",
  with: SteerWithSchema,
  references: (w) => [
    { type: "model", id: w.model, path: ["model"] },
    ...(w.judge_model
      ? [{ type: "model" as const, id: w.judge_model, path: ["judge_model"] }]
      : []),
    ...sourceReferences(w.prompts, ["prompts"]),
  ],
  async plan(w, ctx) {
    const prompts = await loadItems(w.prompts, ctx);
    const items: WorkItem[] = [];
    const cells: { key: string; tags: Record<string, string | number> }[] = [];
    const sets = w.identity_sets ?? [null];
    for (const layer of w.vector ? w.layers! : [null]) {
      for (const coefficient of w.vector ? w.coefficients! : [null]) {
        for (const set of sets) {
          const name = set === null ? null : set.length ? set.join("+") : "none";
          cells.push({
            key: [
              layer === null ? "" : `L${layer}/c${coefficient}/`,
              name === null ? "" : `${name}/`,
            ].join(""),
            tags: {
              ...(layer === null ? {} : { layer, coefficient: coefficient! }),
              ...(name === null ? {} : { identities: name }),
            },
          });
        }
      }
    }
    for (const cell of cells) {
      for (const p of prompts) {
        for (let sample = 0; sample < w.samples; sample++) {
          items.push({
            index: items.length,
            key: `${cell.key}${p.key}${w.samples > 1 ? `/s${sample}` : ""}`,
            input: p.input,
            tags: { ...p.tags, ...cell.tags, prompt: p.key, ...(w.samples > 1 ? { sample } : {}) },
          });
        }
      }
    }
    return items;
  },
  async runItem(item, w, ctx) {
    const messages = messagesOf(item.input, ctx.step.id, item.index);
    const layer = item.tags!.layer as number | undefined;
    const coefficient = item.tags!.coefficient as number | undefined;
    const identities = item.tags!.identities as string | undefined;
    const model = await ctx.model(w.model);
    const seed = ctx.seedFor(item.index);
    const reply = await model.chat({
      messages,
      max_tokens: w.max_tokens,
      temperature: w.temperature,
      seed,
      ...(w.vector && layer !== undefined
        ? {
          steering: [{
            vector: w.vector,
            layer,
            coefficient: coefficient!,
            positions: w.positions,
            type: w.type,
          }],
        }
        : {}),
      ...(identities && identities !== "none"
        ? { extensions: { identities: identities.split("+") } }
        : {}),
      signal: ctx.signal,
    });
    const response = reply.choices[0]?.message.content ?? "";
    const prompt = messages[messages.length - 1]?.content ?? "";
    const judgeInput = w.judge_input === "text"
      ? response
      : w.judge_input === "pair"
      ? { prompt, response }
      : { turns: [{ speaker: "user", text: prompt }, { speaker: "assistant", text: response }] };
    const judgeModel = w.judge_model ? await ctx.model(w.judge_model) : undefined;
    const { verdict, metrics } = await runJudge(
      ctx.instance as Judge,
      judgeInput,
      { model: judgeModel, seed, signal: ctx.signal },
      item.index,
      item.tags,
    );
    return { output: { prompt, response, verdict }, metrics };
  },
  summarize: summarizeVerdicts,
};
