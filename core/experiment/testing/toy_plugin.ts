/**
 * Test doubles for experiment tests: a `toy` plugin with a trainer, a simulator, a judge and a
 * command that count their calls and can be told to fail, and a deterministic ChatModel factory.
 *
 * @module
 */

import { join } from "node:path";
import { z } from "zod";
import type { ChatModel, ChatRequest, ChatResponse } from "../../contracts/chat_model.ts";
import type { Judge } from "../../contracts/judge.ts";
import type { Plugin } from "../../contracts/plugin.ts";
import type { Simulator, Transcript } from "../../contracts/simulator.ts";
import type { Trainer } from "../../contracts/trainer.ts";
import { PluginRegistry } from "../../plugin/registry.ts";
import type { ChatModelFactory } from "../model_pool.ts";

/** Calls per role method, and keys (`simulate:3`) that make a call throw. */
export const toyState = { calls: {} as Record<string, number>, failOn: new Set<string>() };

/** Resets the counters and failure switches. */
export function resetToy(): void {
  toyState.calls = {};
  toyState.failOn.clear();
}

function count(key: string, detail?: string | number): void {
  toyState.calls[key] = (toyState.calls[key] ?? 0) + 1;
  if (toyState.failOn.has(key) || toyState.failOn.has(`${key}:${detail}`)) {
    throw new Error(`toy ${key} failed on purpose at ${detail}`);
  }
}

const options = z.object({ scale: z.number().positive().default(1) });

/**
 * A deterministic ChatModel: replies `<id>[ wearing <identities>] says: <last message reversed>`
 * plus steering marks.
 */
export function echoModel(id: string): ChatModel {
  return {
    id,
    chat(request: ChatRequest): Promise<ChatResponse> {
      count("chat");
      const last = request.messages.at(-1)?.content ?? "";
      const steer = (request.steering ?? []).map((s) =>
        "steerer" in s ? "" : "!".repeat(Math.max(0, Math.round(s.layer * s.coefficient)))
      )
        .join("");
      const identities = request.extensions?.identities as string[] | undefined;
      const worn = identities?.length ? ` wearing ${identities.join("+")}` : "";
      const content = `${id}${worn} says: ${[...last].reverse().join("")}${steer}`;
      return Promise.resolve({
        id: "x",
        model: id,
        created: 0,
        choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
    },
    async *stream() {},
  };
}

/** A factory building {@link echoModel}s (persona models are named after the persona). */
export const echoFactory: ChatModelFactory = ({ id, persona }) => echoModel(persona?.name ?? id);

/** The `toy` plugin. */
export const toyPlugin: Plugin<z.infer<typeof options>> = {
  name: "toy",
  version: "0.0.1",
  description: "test doubles",
  options,
  provides: ["trainer", "simulator", "judge"],
  create(o) {
    const fit: Trainer = {
      name: "fit",
      async train(request) {
        count("train");
        const steps = Number(request.config?.steps ?? 4);
        for (let s = 1; s <= steps; s++) {
          request.onEvent?.({
            type: "step",
            step: s,
            totalSteps: steps,
            loss: 2 / s,
            lr: 0.1,
            tokensPerSecond: 100,
            etaSeconds: 0,
          });
        }
        request.onEvent?.({ type: "eval", step: steps, loss: 2.5 / steps });
        await Deno.writeTextFile(
          join(request.out, "adapter.json"),
          JSON.stringify({ model: request.model, steps }),
        );
        return { out: request.out, steps, metrics: { final_loss: 2 / steps } };
      },
    };
    const echo: Simulator<{ prompt: string }> = {
      name: "echo",
      roles: ["actor"],
      async simulate(input, context): Promise<Transcript> {
        count("simulate", input.prompt);
        const reply = await context.models.actor.chat({
          messages: [{ role: "user", content: input.prompt }],
        });
        return {
          id: input.prompt,
          turns: [{ speaker: "user", text: input.prompt }, {
            speaker: "actor",
            text: reply.choices[0].message.content,
          }],
          metadata: { seed: context.seed },
        };
      },
    };
    const length: Judge<unknown, { score: number; words: number }> = {
      name: "length",
      schema: z.object({ score: z.number(), words: z.number() }),
      judge(input) {
        count("judge");
        const text = typeof input === "string"
          ? input
          : (input as { turns?: { text: string }[]; response?: string }).turns?.map((t) => t.text)
            .join(" ") ??
            (input as { response?: string }).response ?? "";
        if (text.includes("NULL")) {
          return Promise.resolve({ value: null, reason: "asked for null" });
        }
        return Promise.resolve({
          value: { score: (text.length / 10) * o.scale, words: text.split(/\s+/).length },
        });
      },
    };
    return { trainers: { fit }, simulators: { echo }, judges: { length } };
  },
  commands: [{
    name: "summarize",
    description: "writes a note into --out",
    flags: {
      out: { type: "string", description: "folder" },
      note: { type: "string", description: "text", default: "hello" },
    },
    async run(args) {
      count("command");
      await Deno.mkdir(String(args.flags.out), { recursive: true });
      await Deno.writeTextFile(join(String(args.flags.out), "note.txt"), String(args.flags.note));
      console.log(JSON.stringify({ wrote: "note.txt", note: args.flags.note }));
      return 0;
    },
  }],
};

/** A registry holding the toy plugin. */
export function toyRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  registry.register(toyPlugin);
  return registry;
}

/**
 * Writes a dataset of `n` prompts and returns a full experiment object using every step kind
 * but `extract`, rooted at `dir`.
 */
export async function toyExperiment(dir: string, n = 6): Promise<Record<string, unknown>> {
  const identities = ["EXT_high", "EXT_low", "Doctor"];
  await Deno.writeTextFile(
    join(dir, "prompts.jsonl"),
    Array.from(
      { length: n },
      (_, i) =>
        JSON.stringify({ id: `p${i}`, prompt: `prompt number ${i}`, identity: identities[i % 3] }),
    ).join("\n") + "\n",
  );
  await Deno.writeTextFile(join(dir, "train.jsonl"), '{"messages":[]}\n');
  await Deno.mkdir(join(dir, "tiny-model"), { recursive: true }); // the model path must exist
  return {
    name: "toy-exp",
    seed: 7,
    plugins: { toy: { scale: 2 } },
    models: {
      base: { kind: "local", path: "./tiny-model" },
      ada: { kind: "persona", persona: "ada" },
    },
    personas: { ada: { name: "ada", model: "./tiny-model" } },
    datasets: { prompts: "prompts.jsonl", sft: "train.jsonl" },
    steps: [
      {
        id: "fit",
        kind: "train",
        plugin: "toy",
        with: { model: "base", data: "sft", config: { steps: 5 } },
      },
      {
        id: "sim",
        kind: "simulate",
        plugin: "toy",
        with: { inputs: "prompts", models: { actor: "ada" }, tag_fields: ["identity"] },
      },
      {
        id: "score",
        kind: "judge",
        plugin: "toy",
        role: "length",
        with: { inputs: { step: "sim" } },
      },
      {
        id: "sweep",
        kind: "steer",
        plugin: "toy",
        with: {
          model: "base",
          vector: "{{artifacts.fit}}/adapter.json",
          layers: [1, 2],
          coefficients: [0, 1, 2],
          prompts: { items: ["hi", "yo"] },
        },
      },
      {
        id: "note",
        kind: "custom",
        plugin: "toy",
        needs: ["score"],
        with: { command: "summarize", args: { note: "done" } },
      },
    ],
  };
}
