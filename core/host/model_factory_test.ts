import assert from "node:assert/strict";
import { join } from "node:path";
import { PersonaSchema } from "../contracts/persona.ts";
import type { ResidualEdit } from "../contracts/steerer.ts";
import { Engine } from "../model/engine.ts";
import { readDecoderConfig } from "../model/config.ts";
import { createTinyModel } from "../model/tiny.ts";
import { PluginRegistry } from "../plugin/registry.ts";
import { Prng } from "../util/prng.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { LoraAdapter } from "../../plugins/lora/lora_adapter.ts";
import { saveLora } from "../../plugins/lora/save_lora.ts";
import { encodeVectorFile } from "../../plugins/persona_vectors/vector_file.ts";
import { closeSharedEngines, personaBackend } from "./model_factory.ts";

const ask = {
  messages: [{ role: "user" as const, content: "How is the weather?" }],
  max_tokens: 10,
  temperature: 0,
};

Deno.test("personaBackend() loads a persona's saved LoRA adapter and steering vector", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 4 });
    const config = await readDecoderConfig(model);
    // A LoRA adapter with non-zero B, so it changes the output.
    const lora = LoraAdapter.forConfig(config, { r: 4, alpha: 8, seed: 1 });
    const rng = new Prng(9);
    for (const p of lora.parameters()) {
      if (p.name.endsWith("lora_B")) {
        lora.setParameter(p.name, Array.from(p.data, () => rng.normal() * 0.5));
      }
    }
    await saveLora(join(dir, "lora"), lora);
    // A persona vector [L+1, d] whose row 1 is a constant direction.
    const L = config.numLayers, d = config.hiddenSize;
    const data = new Float32Array((L + 1) * d);
    data.fill(2, d, 2 * d);
    await Deno.writeFile(
      join(dir, "v.safetensors"),
      encodeVectorFile({ rows: L + 1, cols: d, data }, {
        model,
        trait: "test",
        type: "response_avg",
        n_pos: 1,
        n_neg: 1,
        threshold: 0,
      }),
    );

    const registry = new PluginRegistry();
    for (const p of builtinPlugins) registry.register(p);
    const backend = personaBackend({ cacheDir: join(dir, "g") }, registry);
    const plain = await backend(PersonaSchema.parse({ name: "p", model }));
    const adapted = await backend(
      PersonaSchema.parse({
        name: "a",
        model,
        adapters: [{ plugin: "lora", path: join(dir, "lora") }],
      }),
    );
    const plainText = (await plain.chat(ask)).choices[0].message.content;
    const adaptedText = (await adapted.chat(ask)).choices[0].message.content;

    // Oracle for the adapter: an engine with the same adapter object built in.
    const direct = await Engine.load(model, { adapters: [lora], cacheDir: join(dir, "g") });
    const expected = await direct.generate(ask.messages, { maxNewTokens: 10, temperature: 0 });
    await direct.close();
    assert.equal(adaptedText, expected.completions[0].text);
    assert.notEqual(adaptedText, plainText);

    // Oracle for steering: the same edit given to the engine directly.
    const steering = [{
      vector: join(dir, "v.safetensors"),
      coefficient: 1.5,
      layer: 1,
      positions: "all" as const,
    }];
    const steered = (await plain.chat({ ...ask, steering })).choices[0].message.content;
    const edit: ResidualEdit = {
      block: 0,
      type: "add",
      vector: data.slice(d, 2 * d),
      coefficient: 1.5,
      positions: "all",
    };
    const engine = await Engine.load(model, { steering: true, cacheDir: join(dir, "g") });
    const want = await engine.generate(ask.messages, {
      maxNewTokens: 10,
      temperature: 0,
      edits: [edit],
    });
    await engine.close();
    assert.equal(steered, want.completions[0].text);
    assert.notEqual(steered, plainText);

    await assert.rejects(
      () =>
        backend(
          PersonaSchema.parse({ name: "x", model, adapters: [{ plugin: "nope", path: "." }] }),
        ),
      /plugin 'nope', which is not loaded/,
    );
  } finally {
    await closeSharedEngines();
    await Deno.remove(dir, { recursive: true });
  }
});
