/**
 * The second third-party example, end to end: loaded by path like any outside plugin, its
 * steerer is applied per request by `dramatis serve` (greedy tokens equal the engine run with the
 * steerer's own edits, and differ from the unsteered reply), and its trainer trains through the
 * shared training driver (the eval loss falls, a rerun resumes from the checkpoint).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { parseArgs } from "../../core/host/args.ts";
import type { ServerHandle } from "../../core/host/server/serve.ts";
import { createServeVerb } from "../../core/host/verbs/serve.ts";
import { createTinyModel, ModelHub, PluginRegistry } from "../../mod.ts";
import { LogitBiasAdapter, nudgeSteerer } from "./mod.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;
const DATA = new URL("../../datasets/train/lighthouse_keeper.jsonl", import.meta.url).pathname;

Deno.test("serve applies a third-party plugin's steerer per request", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nudge_serve_" });
  const registry = new PluginRegistry();
  await registry.load(PLUGIN);
  const hub = new ModelHub({ registry, cacheDir: join(dir, "graphs"), threads: 1 });
  let server: ServerHandle | undefined;
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 5 });
    const listening = Promise.withResolvers<void>();
    const controller = new AbortController();
    const verb = createServeVerb({
      onListen: (s) => {
        server = s;
        listening.resolve();
      },
    });
    const running = verb.run!(parseArgs(["--model", model, "--port", "0"], verb.flags!, "serve"), {
      registry,
      pluginOptions: new Map(),
      models: hub,
      json: false,
      log: () => {},
      signal: controller.signal,
    });
    await listening.promise;
    const client = new OpenAI({ baseURL: `${server!.url}/v1`, apiKey: "unused" });
    const messages = [{ role: "user" as const, content: "Tell me about the sea." }];
    const ask = async (extra: Record<string, unknown>) => {
      const r = await client.chat.completions.create({
        model: "m",
        messages,
        temperature: 0,
        max_tokens: 8,
        ...extra,
      } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
      return (r as unknown as { metadata: { token_ids: number[][] } }).metadata.token_ids[0];
    };
    const config = { layer: 1, coefficient: 6, seed: 3 };
    const steered = await ask({ steering: [{ steerer: "nudge", config }] });
    const plain = await ask({});
    assert.notDeepEqual(steered, plain, "the steerer changes the reply");
    // Oracle: the same engine given the steerer's own edits directly.
    const engine = await hub.engine(model);
    const edits = await nudgeSteerer(config).resolve({
      numLayers: engine.config.numLayers,
      hiddenSize: engine.config.hiddenSize,
      loadVector: () => Promise.reject(new Error("unused")),
    });
    const direct = await engine.generate(messages, { maxNewTokens: 8, temperature: 0, edits });
    assert.deepEqual(steered, direct.completions[0].tokens);
    // An unknown steerer is a clear 400, not a silent plain reply.
    await assert.rejects(ask({ steering: [{ steerer: "nudge.nope", config }] }), /nudge/);
    controller.abort();
    assert.equal(await running, 0);
    server = undefined;
  } finally {
    if (server) await server.shutdown();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a third-party trainer trains through the shared driver and resumes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nudge_train_" });
  const registry = new PluginRegistry();
  await registry.load(PLUGIN);
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 5 });
    const roles = await registry.instantiate("nudge");
    const trainer = roles.trainers!.bias;
    const out = join(dir, "run");
    const config = { learning_rate: 0.5, save_every: 2, eval_split: 0.2 };
    const first = await trainer.train({ model, data: DATA, out, config: { ...config, steps: 4 } });
    assert.equal(first.steps, 4);
    assert.ok(
      first.metrics.eval_loss < first.metrics.initial_eval_loss,
      JSON.stringify(first.metrics),
    );
    const bias = await LogitBiasAdapter.load(out);
    assert.ok(bias.bias.some((x) => x !== 0), "the bias moved");
    // The driver wrote its artifacts; a longer rerun resumes from step 4.
    const logs: string[] = [];
    const second = await trainer.train({
      model,
      data: DATA,
      out,
      config: { ...config, steps: 6 },
      onEvent: (e) => e.type === "log" && logs.push(e.message),
    });
    assert.equal(second.steps, 6);
    assert.ok(logs.some((m) => /resumed from step 4/.test(m)), logs.join("\n"));
    const result = JSON.parse(await Deno.readTextFile(join(out, "train_result.json")));
    assert.equal(result.metrics.steps, 6);
    await Deno.stat(join(out, "train_config.json"));
  } finally {
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
