import assert from "node:assert/strict";
import { z } from "zod";
import type { Adapter, LinearHook } from "../../core/contracts/adapter.ts";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { Judge } from "../../core/contracts/judge.ts";
import type { Simulator } from "../../core/contracts/simulator.ts";
import type { Steerer } from "../../core/contracts/steerer.ts";
import type { Trainer } from "../../core/contracts/trainer.ts";
import { adapterConformance } from "./adapter.ts";
import { judgeConformance } from "./judge.ts";
import { simulatorConformance } from "./simulator.ts";
import { steererConformance } from "./steerer.ts";
import { trainerConformance } from "./trainer.ts";

/** A stand-in test context that records which steps pass, so a suite's verdicts can be checked. */
function recorder() {
  const results: Record<string, boolean> = {};
  const t = {
    step: async (name: string, fn: () => unknown) => {
      try {
        await fn();
        results[name] = true;
      } catch {
        results[name] = false;
      }
      return results[name];
    },
  } as unknown as Deno.TestContext;
  return { t, results };
}

const failed = (r: Record<string, boolean>) => Object.keys(r).filter((k) => !r[k]);

const echoModel: ChatModel = {
  id: "echo",
  chat: (req) =>
    Promise.resolve({
      id: "x",
      model: "echo",
      created: 0,
      choices: [{
        index: 0,
        message: { role: "assistant", content: req.messages.at(-1)!.content },
        finish_reason: "stop",
      }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    }),
  async *stream() {},
};

Deno.test("judgeConformance() passes a sound judge and flags a judge that throws", async () => {
  const good: Judge<string, { n: number }> = {
    name: "len",
    schema: z.object({ n: z.number() }),
    judge: (s) =>
      Promise.resolve(s ? { value: { n: s.length } } : { value: null, reason: "empty" }),
  };
  const a = recorder();
  await judgeConformance(a.t, { judge: good, inputs: ["abc"], unscorable: [""] });
  assert.deepEqual(failed(a.results), []);
  const bad: Judge<string, { n: number }> = {
    ...good,
    judge: (s) => s ? Promise.resolve({ value: { n: -1 } }) : Promise.reject(new Error("boom")),
    schema: z.object({ n: z.number().min(0) }),
  };
  const b = recorder();
  await judgeConformance(b.t, { judge: bad, inputs: ["abc"], unscorable: [""] });
  assert.deepEqual(failed(b.results), [
    "verdicts validate against the judge's schema",
    "unscorable input is an explicit null with a reason, never a throw",
  ]);
});

Deno.test("simulatorConformance() passes a sound simulator and flags one ignoring abort", async () => {
  const make = (honourAbort: boolean): Simulator<string> => ({
    name: "ping",
    roles: ["a"],
    async simulate(input, ctx) {
      if (honourAbort) ctx.signal?.throwIfAborted();
      const r = await ctx.models.a.chat({ messages: [{ role: "user", content: input }] });
      ctx.onEvent?.({ name: "turn", data: {} });
      return {
        id: "t",
        turns: [{ speaker: "a", text: r.choices[0].message.content }],
        metadata: {},
      };
    },
  });
  const a = recorder();
  await simulatorConformance(a.t, { simulator: make(true), input: "hi", models: { a: echoModel } });
  assert.deepEqual(failed(a.results), []);
  const b = recorder();
  await simulatorConformance(b.t, {
    simulator: make(false),
    input: "hi",
    models: { a: echoModel },
  });
  assert.deepEqual(failed(b.results), ["an aborted signal stops the run with an error"]);
});

Deno.test("steererConformance() flags an edit whose vector has the wrong length", async () => {
  const context = {
    numLayers: 2,
    hiddenSize: 4,
    loadVector: () => Promise.reject(new Error("unused")),
  };
  const steerer = (len: number): Steerer => ({
    name: "s",
    resolve: () => [{
      block: 1,
      type: "add",
      vector: new Float32Array(len).fill(1),
      coefficient: 2,
      positions: "response",
    }],
  });
  const a = recorder();
  await steererConformance(a.t, { steerer: steerer(4), context });
  assert.deepEqual(failed(a.results), []);
  const b = recorder();
  await steererConformance(b.t, { steerer: steerer(3), context });
  assert.deepEqual(failed(b.results), ["edits target existing blocks with hidden-size vectors"]);
});

Deno.test("adapterConformance() flags a fragment that uses an undeclared value", async () => {
  const hooks: LinearHook[] = [{
    name: "layers.0.attn.q_proj",
    layer: 0,
    inFeatures: 4,
    outFeatures: 4,
  }];
  const make = (sneaky: boolean): Adapter => ({
    kind: "toy",
    targets: (h) => h.map((x) => x.name),
    parameters: () => [{ name: "A", shape: [4, 4], data: new Float32Array(16) }],
    emit(_hook, input, ops) {
      const a = ops.parameter("A", [4, 4]);
      return ops.op("MatMul", [sneaky ? "nowhere" : input, a])[0];
    },
    save: (dir) => Deno.writeTextFile(`${dir}/adapter.json`, "{}"),
  });
  const a = recorder();
  await adapterConformance(a.t, { adapter: make(false), hooks });
  assert.deepEqual(failed(a.results), []);
  const b = recorder();
  await adapterConformance(b.t, { adapter: make(true), hooks });
  assert.deepEqual(failed(b.results), [
    "emit builds a fragment from known values and declared parameters",
  ]);
});

Deno.test("trainerConformance() flags a trainer that reports a NaN loss", async () => {
  const make = (loss: number): Trainer => ({
    name: "toy",
    async train(req) {
      req.signal?.throwIfAborted();
      req.onEvent?.({
        type: "step",
        step: 1,
        totalSteps: 1,
        loss,
        lr: 0.1,
        tokensPerSecond: 1,
        etaSeconds: 0,
      });
      await Deno.writeTextFile(`${req.out}/metrics.jsonl`, "{}\n");
      return { out: req.out, steps: 1, metrics: { loss } };
    },
  });
  const request = { model: "m", data: "d", out: "" };
  const a = recorder();
  await trainerConformance(a.t, { trainer: make(0.5), request });
  assert.deepEqual(failed(a.results), []);
  const b = recorder();
  await trainerConformance(b.t, { trainer: make(NaN), request });
  assert.deepEqual(failed(b.results), ["a short run emits finite step events and returns metrics"]);
});
