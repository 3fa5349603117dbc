import { randomizeParameters } from "./testing/adapters.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../errors.ts";
import { decodeModel } from "../onnx/deserialize.ts";
import { OrtSession } from "../runtime/session.ts";
import type { WireTensor } from "../runtime/tensor.ts";
import { IdentityAdapter } from "../../plugins/hirpf/adapter.ts";
import { LoraAdapter } from "../../plugins/lora/lora_adapter.ts";
import { readDecoderConfig } from "./config.ts";
import { Engine, graphKey, weightsKey } from "./engine.ts";
import { normalizeWeightFormat } from "./quantize.ts";
import { exportDecoder } from "./export.ts";
import { forwardPass } from "./generate.ts";
import { greedy, logSoftmax } from "./sampling.ts";
import { createTinyModel } from "./tiny.ts";
import { loadWeights } from "./weights.ts";

async function withEngine(
  fn: (engine: Engine, dirs: { model: string; cache: string }) => Promise<void>,
  options: { steering?: boolean; preset?: "tiny-qwen3" | "tiny-llama" } = {},
) {
  const root = await Deno.makeTempDir({ prefix: "dramatis_engine_" });
  const model = join(root, "model");
  const cache = join(root, "cache");
  await createTinyModel(model, { preset: options.preset ?? "tiny-qwen3", seed: 3 });
  const engine = await Engine.load(model, {
    cacheDir: cache,
    threads: 1,
    steering: options.steering,
  });
  try {
    await fn(engine, { model, cache });
  } finally {
    await engine.close();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("Engine.load() exports the graph once and reuses the cache on the next load", async () => {
  await withEngine(async (engine, dirs) => {
    assert.ok(engine.graphPath.startsWith(dirs.cache));
    const steps: string[] = [];
    const again = await Engine.load(dirs.model, {
      cacheDir: dirs.cache,
      onProgress: (s) => steps.push(s),
    });
    try {
      assert.equal(again.graphPath, engine.graphPath);
      assert.ok(!steps.some((s) => s.startsWith("exporting")), steps.join("; "));
    } finally {
      await again.close();
    }
    // different build options → a different cache entry
    const steered = await Engine.load(dirs.model, { cacheDir: dirs.cache, steering: true });
    try {
      assert.notEqual(steered.graphPath, engine.graphPath);
      assert.ok(steered.steering);
    } finally {
      await steered.close();
    }
  });
});

Deno.test("Engine.generate() on chat messages streams the same text it returns", async () => {
  await withEngine(async (engine) => {
    const messages = [{ role: "user" as const, content: "Tell me a story." }];
    const r = await engine.generate(messages, { maxNewTokens: 24 });
    const c = r.completions[0];
    assert.equal(c.text, engine.tokenizer.decode(c.tokens, { skipSpecialTokens: true }));
    assert.equal(r.promptTokens[0].length > 0, true);
    let streamed = "";
    let finish = "";
    for await (const ev of engine.stream(messages, { maxNewTokens: 24 })) {
      if (ev.type === "delta" || ev.type === "finish") streamed += ev.text;
      if (ev.type === "finish") finish = ev.finishReason;
    }
    assert.equal(streamed, c.text);
    assert.equal(finish, c.finishReason);
  });
});

Deno.test("Engine.generate() cuts at a stop string and reports OpenAI-style logprobs", async () => {
  await withEngine(async (engine) => {
    const free = await engine.generate("Once upon a time", { maxNewTokens: 30 });
    const text = free.completions[0].text;
    assert.ok(text.length >= 6, `need some text to cut: ${JSON.stringify(text)}`);
    const stop = text.slice(3, 6);
    const cut = await engine.generate("Once upon a time", { maxNewTokens: 30, stop: [stop] });
    assert.equal(cut.completions[0].text, text.slice(0, text.indexOf(stop)));
    assert.equal(cut.completions[0].finishReason, "stop");

    const lp = await engine.generate("Once upon a time", { maxNewTokens: 3, topLogprobs: 2 });
    const first = lp.completions[0].logprobs![0];
    assert.equal(first.top_logprobs.length, 2);
    assert.equal(first.token, engine.tokenizer.decode([lp.completions[0].tokens[0]]));
    // logprob of the first token = log-softmax of the full forward's last logits
    const ids = engine.encode("Once upon a time")[0];
    const fw = await engine.forward([ids]);
    const [, S, V] = fw.logits.dims;
    const last = (fw.logits.data as Float32Array).slice((S - 1) * V, S * V);
    assert.equal(greedy(last), lp.completions[0].tokens[0]);
    assert.ok(Math.abs(logSoftmax(last)[lp.completions[0].tokens[0]] - first.logprob) < 1e-4);
  });
});

Deno.test("Engine.generate() gives n seeded completions per prompt", async () => {
  await withEngine(async (engine) => {
    const opts = { maxNewTokens: 12, temperature: 1.2, n: 2, seed: 5 };
    const a = await engine.generate(["Hello", "Goodbye"], opts);
    const b = await engine.generate(["Hello", "Goodbye"], opts);
    assert.deepEqual(a.completions.map((c) => [c.prompt, c.index]), [[0, 0], [0, 1], [1, 0], [
      1,
      1,
    ]]);
    assert.deepEqual(a.completions.map((c) => c.tokens), b.completions.map((c) => c.tokens));
    assert.equal(a.stats.promptTokens, a.promptTokens[0].length + a.promptTokens[1].length);
  });
});

Deno.test("Engine.forward() returns every hidden state and edits need a steering graph", async () => {
  await withEngine(async (engine) => {
    const ids = engine.encode(["I am happy", "Hi"]);
    const r = await engine.forward(ids, { hiddenStates: true });
    assert.equal(r.hiddenStates!.length, engine.config.numLayers + 1);
    assert.deepEqual(r.hiddenStates![0].dims, [2, ids[0].length, engine.config.hiddenSize]);
    const edit = {
      block: 0,
      type: "add" as const,
      vector: new Float32Array(engine.config.hiddenSize),
      coefficient: 1,
      positions: "all" as const,
    };
    await assert.rejects(
      () => engine.generate("Hi", { maxNewTokens: 2, edits: [edit] }),
      (e: Error) => errorCode(e) === "E_USAGE" && /steering: true/.test(e.message),
    );
  });
});

Deno.test("Engine.close() makes later calls reject", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_engine_" });
  try {
    await createTinyModel(join(root, "m"), { preset: "tiny-llama", seed: 1 });
    const engine = await Engine.load(join(root, "m"), { cacheDir: join(root, "c") });
    await engine.close();
    await assert.rejects(() => engine.generate("Hi", { maxNewTokens: 2 }), /released/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Seeded non-zero values for every parameter (LoRA B and hirpf B start at zero). */

Deno.test("graphKey() changes with an adapter's parameter values, not only its shapes", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_engine_" });
  try {
    const model = join(root, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 1 });
    const config = await readDecoderConfig(model);
    const lora = LoraAdapter.forConfig(config, { r: 2 });
    const key = () => graphKey(model, config, { steering: false, adapters: [lora] });
    const before = await key();
    assert.equal(await key(), before);
    const p = lora.parameters()[1];
    const old = p.data[3];
    p.data[3] = old + 0.5;
    const changed = await key();
    assert.notEqual(changed, before);
    p.data[3] = old;
    assert.equal(await key(), before);
    assert.notEqual(await graphKey(model, config, { steering: false, adapters: [] }), before);
    // Graphs for other providers keep the unblocked layout: another key, and other shared weights.
    const unblocked = { steering: false, adapters: [lora], blocked: false };
    assert.notEqual(await graphKey(model, config, unblocked), before);
    const f32 = normalizeWeightFormat("f32");
    assert.notEqual(
      await weightsKey(model, config, f32, undefined, "f32", false),
      await weightsKey(model, config, f32),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Engine.load() bakes adapter parameters: same logits as feeding them, and a new graph per checkpoint", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_engine_" });
  let engine: Engine | undefined;
  let oracle: OrtSession | undefined;
  try {
    const model = join(root, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2, numLayers: 4 });
    const config = await readDecoderConfig(model);
    const adapter = IdentityAdapter.create(config, { r: 2, seed: 4 });
    randomizeParameters(adapter, 8, 0.2);
    engine = await Engine.load(model, {
      adapters: [adapter],
      cacheDir: join(root, "c"),
      threads: 1,
    });
    // The exported graph takes no parameter as an input; the identity masks stay inputs.
    const graph = decodeModel(await Deno.readFile(engine.graphPath), {
      external: (ref) => new Uint8Array(ref.length),
    }).graph;
    const names = new Set(adapter.parameters().map((p) => p.name));
    assert.ok(!graph.inputs.some((i) => names.has(i.name)));
    assert.ok(graph.initializers.filter((t) => names.has(t.name)).length === names.size);
    assert.ok(graph.inputs.some((i) => i.name.startsWith("hirpf.mask.")));
    // On the CPU the engine's graph stores the layers' weights in blocks (the oracle below does
    // not), gate and up as one table.
    const tables = graph.initializers.filter((t) => t.name.endsWith(".gate_up_proj.weight_b16"));
    assert.equal(tables.length, config.numLayers);

    // Oracle: the same adapter exported with its parameters as inputs, fed on the call.
    const dir = join(root, "fed");
    await exportDecoder(config, await loadWeights(model, config), dir, {
      adapters: [adapter],
      hiddenStates: true,
      kvCache: "resident",
      fused: true,
    });
    oracle = await OrtSession.create(join(dir, "model.onnx"), { intraOpThreads: 1 });
    const ids = engine.encode(["I am happy to see you", "Hi"]);
    const identities = [["EXT_high"], ["AGR_low", "Doctor"]];
    const got = await engine.forward(ids, {
      extensions: identities.map((i) => ({ identities: i })),
    });
    const want = await forwardPass({ ...engine.decoder, session: oracle }, ids, {
      runtimeInputs: (rows) => {
        const feeds: Record<string, WireTensor> = {};
        for (const p of adapter.parameters()) {
          feeds[p.name] = { dtype: "float32", dims: [...p.shape], data: p.data.slice() };
        }
        const masks = adapter.runtimeInputs({
          batchSize: rows.length,
          extensions: { identities: rows.map((r) => identities[r]) },
        });
        for (const [n, t] of Object.entries(masks)) {
          feeds[n] = { dtype: "float32", dims: [...t.shape], data: t.data } as WireTensor;
        }
        return feeds;
      },
    });
    assert.deepEqual(got.logits.dims, want.logits.dims);
    assert.deepEqual(
      Array.from(got.logits.data as Float32Array),
      Array.from(want.logits.data as Float32Array),
    );
    // Generation feeds only the masks (a parameter feed would be rejected as an unknown input).
    const r = await engine.generate("Hello", {
      maxNewTokens: 4,
      extensions: { identities: ["EXT_high"] },
    });
    assert.equal(r.completions[0].tokens.length > 0, true);

    // Another checkpoint of the same adapter → another cached graph.
    const first = engine.graphPath;
    await engine.close();
    adapter.parameters()[0].data[0] += 1;
    engine = await Engine.load(model, {
      adapters: [adapter],
      cacheDir: join(root, "c"),
      threads: 1,
    });
    assert.notEqual(engine.graphPath, first);
  } finally {
    await engine?.close();
    await oracle?.release();
    await Deno.remove(root, { recursive: true });
  }
});
