import { decodeModel } from "../onnx/deserialize.ts";
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
import { encodeVectorFile } from "../steering/vector_file.ts";
import { errorCode } from "../errors.ts";
import { hasCudaProvider, hasVulkanLoader } from "../runtime/providers.ts";
import { ModelHub } from "./model_hub.ts";

const ask = {
  messages: [{ role: "user" as const, content: "How is the weather?" }],
  max_tokens: 10,
  temperature: 0,
};

Deno.test("ModelHub.personaBackend() loads a persona's saved LoRA adapter and steering vector", async () => {
  const dir = await Deno.makeTempDir();
  const hubs: ModelHub[] = [];
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
    const hub = new ModelHub({ cacheDir: join(dir, "g"), registry });
    hubs.push(hub);
    const backend = (p: Parameters<ModelHub["personaBackend"]>[0]) => hub.personaBackend(p);
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
    for (const h of hubs) await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ModelHub experiment entries: options.provider / threads reach the onnxruntime session", async () => {
  const dir = await Deno.makeTempDir();
  const hub = new ModelHub({ cacheDir: join(dir, "g") });
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    const factory = hub.experimentFactory();
    const entry = (options: Record<string, unknown>) => ({
      id: "tiny",
      spec: { kind: "local" as const, path: model, options },
      baseDir: dir,
    });
    const chat = await factory(entry({ provider: "cpu", threads: 1 }));
    const r = await chat.chat({ ...ask, max_tokens: 2 });
    assert.equal(r.usage.completion_tokens, 2);
    const engine = await hub.engine(model, { provider: "cpu", threads: 1 });
    assert.deepEqual(engine.session, { provider: "cpu", intraOpThreads: 1 });
    // Another thread count is another session.
    const two = await hub.engine(model, { threads: 2 });
    assert.equal(two.session.intraOpThreads, 2);
    assert.notEqual(two, engine);

    if (!hasCudaProvider()) {
      await assert.rejects(
        () => Promise.resolve(factory(entry({ provider: "cuda" }))),
        (e) => errorCode(e) === "E_PROVIDER" && /cuda/.test((e as Error).message),
      );
    }
    if (!hasVulkanLoader()) {
      await assert.rejects(
        () => Promise.resolve(factory(entry({ provider: "webgpu" }))),
        (e) => errorCode(e) === "E_PROVIDER",
      );
    }
    await assert.rejects(
      () => Promise.resolve(factory(entry({ dtype: "int3" }))),
      (e) => errorCode(e) === "E_CONFIG" && /options\.dtype/.test((e as Error).message),
    );
    await assert.rejects(
      () => Promise.resolve(factory(entry({ executionProvider: "cuda" }))),
      (e) => errorCode(e) === "E_CONFIG" && /executionProvider/.test((e as Error).message),
    );
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ModelHub.openEngine() gives an owned engine that close() also releases", async () => {
  const dir = await Deno.makeTempDir();
  const hub = new ModelHub({ cacheDir: join(dir, "g"), threads: 1 });
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    const owned = await hub.openEngine(model);
    assert.equal(owned.steering, false);
    assert.equal(owned.session.intraOpThreads, 1);
    assert.notEqual(owned, await hub.openEngine(model).then(async (e) => (await e.close(), e)));
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ModelHub engines take a MatMulNBits accuracy level for quantized weights", async () => {
  const dir = await Deno.makeTempDir();
  const hub = new ModelHub({ cacheDir: join(dir, "g"), threads: 1, dtype: "int4" });
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    const graphs: string[] = [];
    for (const accuracyLevel of [undefined, 0]) {
      const engine = await hub.openEngine(model, { accuracyLevel });
      graphs.push(engine.graphPath);
      const { graph } = decodeModel(await Deno.readFile(engine.graphPath), {
        external: (ref) => new Uint8Array(ref.length),
      });
      // The level is written into every MatMulNBits node (4 = int8 compute, the default).
      const levels = graph.nodes.filter((n) => n.opType === "MatMulNBits").map((n) =>
        n.attributes.accuracy_level?.value
      );
      assert.ok(levels.length > 5);
      assert.deepEqual([...new Set(levels)], [accuracyLevel ?? 4]);
      await engine.close();
    }
    assert.notEqual(graphs[0], graphs[1], "each level is its own graph");
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ModelHub engines honour prefixCacheBytes (0 turns prompt reuse off) and key the cache on it", async () => {
  const dir = await Deno.makeTempDir();
  const hub = new ModelHub({ cacheDir: join(dir, "g"), threads: 1 });
  try {
    const model = join(dir, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    const prompt = { inputIds: [Array.from({ length: 48 }, (_, i) => 5 + i)] };
    const twice = async (e: Engine) => {
      await e.generate(prompt, { maxNewTokens: 2, temperature: 0, eosTokenIds: [] });
      return (await e.generate(prompt, { maxNewTokens: 2, temperature: 0, eosTokenIds: [] }))
        .stats.reusedPromptTokens;
    };
    const cold = await hub.openEngine(model, { prefixCacheBytes: 0 });
    const warm = await hub.openEngine(model);
    assert.equal(await twice(cold), 0, "no prefix is kept without a prefix cache");
    assert.ok(await twice(warm) > 0, "the default engine reuses the saved prompt prefix");
    assert.notEqual(
      await hub.engine(model, { prefixCacheBytes: 0 }),
      await hub.engine(model),
      "shared engines with other prefix caches are distinct",
    );
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});
