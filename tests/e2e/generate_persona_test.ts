/**
 * `generate --persona` and `serve` play a persona the same way: both build it through the model
 * hub (system prompt, saved LoRA adapter, steering vector), so greedy decoding gives the same
 * tokens. The oracle for "adapter and steering are applied at all" is the plain base model, whose
 * greedy tokens differ.
 */

import { sharedTestCache } from "../test_cache.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { createTinyModel } from "../../core/model/tiny.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { parseArgs } from "../../core/host/args.ts";
import { createServeVerb } from "../../core/host/verbs/serve.ts";
import type { ServerHandle } from "../../core/host/server/serve.ts";
import { ModelHub } from "../../core/services/model_hub.ts";
import { encodeVectorFile } from "../../core/steering/vector_file.ts";
import { Prng } from "../../core/util/prng.ts";
import { main } from "../../main.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { LoraAdapter, saveLora } from "../../plugins/lora/mod.ts";

async function generateJson(argv: string[]): Promise<Record<string, unknown>> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => printed.push(xs.join(" "));
  try {
    const status = await main(["generate", ...argv, "--json"]);
    assert.equal(status, 0, printed.join("\n"));
  } finally {
    console.log = log;
  }
  return JSON.parse(printed.join("\n"));
}

Deno.test("generate --persona and serve give the same greedy tokens, adapters and steering included", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_generate_persona_" });
  sharedTestCache();
  let server: ServerHandle | undefined;
  const registry = new PluginRegistry();
  for (const p of builtinPlugins) registry.register(p);
  const hub = new ModelHub({ registry, cacheDir: join(dir, "cache", "graphs") });
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 4 });
    const config = await readDecoderConfig(model);
    const lora = LoraAdapter.forConfig(config, { r: 4, alpha: 8, seed: 1 });
    const rng = new Prng(9);
    for (const p of lora.parameters()) {
      if (p.name.endsWith("lora_B")) {
        lora.setParameter(p.name, Array.from(p.data, () => rng.normal() * 0.5));
      }
    }
    // The persona's resources sit next to it; serve reaches them by id through --adapters and
    // --vectors, generate by path relative to the persona file.
    const res = join(dir, "personas");
    await Deno.mkdir(res);
    await saveLora(join(res, "lora"), lora);
    const L = config.numLayers, d = config.hiddenSize;
    const data = new Float32Array((L + 1) * d);
    for (let i = d; i < 2 * d; i++) data[i] = rng.normal();
    await Deno.writeFile(
      join(res, "v.safetensors"),
      encodeVectorFile({ rows: L + 1, cols: d, data }, {
        model,
        trait: "t",
        type: "response_avg",
        n_pos: 1,
        n_neg: 1,
        threshold: 0,
      }),
    );
    const personaFile = join(res, "ada.json");
    await Deno.writeTextFile(
      personaFile,
      JSON.stringify({
        name: "ada",
        model,
        system_prompt: "You are {{char}}.",
        adapters: [{ plugin: "lora", path: "lora" }],
        steering: [{
          vector: "v.safetensors",
          coefficient: 4,
          layer: 1,
          positions: "all",
        }],
      }),
    );

    const common = ["--prompt", "How is the weather?", "--temperature", "0", "--max-tokens", "8"];
    const generated = await generateJson(["--persona", personaFile, ...common]);
    const plain = await generateJson(["--model", model, ...common]);
    assert.equal((generated.token_ids as number[]).length, 8);
    assert.notDeepEqual(generated.token_ids, plain.token_ids, "the persona changes the output");
    // Each part matters: without the steering, or without the adapter, the tokens change.
    const persona = JSON.parse(await Deno.readTextFile(personaFile));
    for (const [name, drop] of [["nosteer", "steering"], ["noadapter", "adapters"]]) {
      const variant = join(dir, `${name}.json`);
      // Relative resource paths are taken next to the persona file: point them at res/.
      const abs = {
        ...persona,
        [drop]: [],
        adapters: drop === "adapters" ? [] : [{ plugin: "lora", path: join(res, "lora") }],
        steering: drop === "steering"
          ? []
          : [{ ...persona.steering[0], vector: join(res, "v.safetensors") }],
      };
      await Deno.writeTextFile(variant, JSON.stringify(abs));
      const other = await generateJson(["--persona", variant, ...common]);
      assert.notDeepEqual(other.token_ids, generated.token_ids, `${drop} changes the output`);
    }

    const listening = Promise.withResolvers<void>();
    const controller = new AbortController();
    const verb = createServeVerb({
      onListen: (s) => {
        server = s;
        listening.resolve();
      },
    });
    const args = parseArgs(
      ["--model", model, "--personas", res, "--adapters", res, "--vectors", res, "--port", "0"],
      verb.flags!,
      "dramatis serve",
    );
    const running = verb.run!(args, {
      registry,
      pluginOptions: new Map(),
      models: hub,
      json: false,
      log: () => {},
      signal: controller.signal,
    });
    await listening.promise;
    const client = new OpenAI({ baseURL: `${server!.url}/v1`, apiKey: "unused" });
    const r = await client.chat.completions.create({
      model: "ada",
      messages: [{ role: "user", content: "How is the weather?" }],
      temperature: 0,
      max_tokens: 8,
    });
    const served = r as unknown as { metadata: { token_ids: number[][] } };
    assert.deepEqual(served.metadata.token_ids[0], generated.token_ids);
    assert.equal(r.choices[0].message.content, generated.text);
    controller.abort();
    assert.equal(await running, 0);
    server = undefined;
  } finally {
    if (server) await server.shutdown();
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});
