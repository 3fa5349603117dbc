import { randomizeParameters } from "./testing/adapters.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { Adapter } from "../contracts/adapter.ts";
import { errorCode } from "../errors.ts";
import { decodeModel, isDeferred, readModel } from "../onnx/deserialize.ts";
import { Prng } from "../util/prng.ts";
import { LoraAdapter } from "../../plugins/lora/lora_adapter.ts";
import { IdentityAdapter } from "../../plugins/hirpf/adapter.ts";
import { type DecoderConfig, parseDecoderConfig } from "./config.ts";
import { buildDecoderGraph, type DecoderWeightMap } from "./decoder_graph.ts";
import { exportDecoder, exportForTransformersJs } from "./export.ts";
import { referenceForward } from "./testing/reference.ts";
import { tinyConfigJson, tinyWeights } from "./tiny.ts";
import { expectedWeightShapes } from "./weights.ts";

function toyConfig(): DecoderConfig {
  const raw = {
    model_type: "llama",
    architectures: ["LlamaForCausalLM"],
    vocab_size: 41,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 4,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 128,
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
  };
  return {
    modelType: "llama",
    vocabSize: 41,
    hiddenSize: 16,
    intermediateSize: 32,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 4,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 128,
    tieWordEmbeddings: false,
    attentionBias: false,
    qkNorm: false,
    bosTokenId: 1,
    eosTokenIds: [2],
    padTokenId: null,
    raw,
  };
}

function randomWeights(c: DecoderConfig, seed: number): DecoderWeightMap {
  const r = new Prng(seed);
  const out: DecoderWeightMap = new Map();
  for (const [name, shape] of expectedWeightShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = name.endsWith("norm.weight");
    out.set(name, {
      shape,
      data: Float32Array.from(
        { length: n },
        () => (norm ? 1 + 0.1 * r.normal() : 0.5 * r.normal()),
      ),
    });
  }
  return out;
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

Deno.test("exportDecoder() writes model.onnx + aligned model.onnx_data that onnxruntime runs from the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const c = toyConfig();
    const w = randomWeights(c, 1);
    const res = await exportDecoder(c, w, dir, {
      cache: false,
      numLogitsToKeep: false,
      hiddenStates: false,
    });
    assert.equal(res.modelPath, join(dir, "model.onnx"));
    assert.equal(res.dataPath, join(dir, "model.onnx_data"));
    // Every weight of 1 KiB or more is external, at a 64 KiB-aligned offset.
    const offsets: number[] = [];
    const model = decodeModel(await Deno.readFile(res.modelPath), {
      external: (ref) => {
        offsets.push(ref.offset);
        return new Uint8Array(ref.length);
      },
    });
    const big = model.graph.initializers.filter((t) => t.data.byteLength >= 1024);
    assert.equal(offsets.length, big.length);
    assert.ok(offsets.every((o) => o % 65536 === 0));
    assert.ok(JSON.parse(model.metadata["dramatis.decoder"]).modelType === "llama");

    const s = await ort.InferenceSession.create(res.modelPath);
    const ids = [[3, 9, 27, 40, 5]];
    const out = await s.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids[0], BigInt), [1, 5]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(5).fill(1n), [1, 5]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from([0n, 1n, 2n, 3n, 4n]), [1, 5]),
    });
    await s.release();
    const ref = referenceForward(c, w, { inputIds: ids });
    const got = out.logits.data as Float32Array;
    const want = ref.logits[0].flatMap((r) => Array.from(r));
    const scale = Math.max(...want.map(Math.abs));
    want.forEach((v, i) =>
      assert.ok(Math.abs(got[i] - v) <= 1e-4 * scale, `${i}: ${got[i]} vs ${v}`)
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exportForTransformersJs() writes a folder whose decoder transformers.js generate() runs greedily like the reference", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const c = toyConfig();
    const w = randomWeights(c, 2);
    const res = await exportForTransformersJs(dir, c, w);
    assert.equal(res.modelPath, join(dir, "onnx", "model.onnx"));
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(dir, "config.json"))), c.raw);

    const { AutoModelForCausalLM, Tensor, env } = await import("@huggingface/transformers");
    env.allowRemoteModels = false;
    const model = await AutoModelForCausalLM.from_pretrained(dir, { dtype: "fp32", device: "cpu" });
    const prompt = [1, 7, 19, 33];
    const generated = await model.generate({
      input_ids: new Tensor("int64", BigInt64Array.from(prompt, BigInt), [1, prompt.length]),
      attention_mask: new Tensor("int64", new BigInt64Array(prompt.length).fill(1n), [
        1,
        prompt.length,
      ]),
      max_new_tokens: 5,
      do_sample: false,
    }) as { tolist(): bigint[][] };
    await model.dispose();
    // Oracle: greedy decoding with the float64 reference, one full recompute per token.
    const seq = [...prompt];
    for (let k = 0; k < 5; k++) {
      const ref = referenceForward(c, w, { inputIds: [seq] });
      const next = argmax(ref.logits[0][seq.length - 1]);
      seq.push(next);
      if (c.eosTokenIds.includes(next)) break;
    }
    assert.deepEqual(generated.tolist()[0].map(Number), seq);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Baked adapter parameters
// ---------------------------------------------------------------------------------------------

function tinyLlama(): { config: DecoderConfig; weights: DecoderWeightMap } {
  const config = parseDecoderConfig(
    tinyConfigJson({
      preset: "tiny-llama",
      numLayers: 4,
      vocabSize: 300,
      hiddenSize: 32,
      intermediateSize: 48,
    }),
    "config.json",
  );
  return { config, weights: tinyWeights(config, 11) };
}

/** The left-padded batch of {@link adapterLogits}: 5 tokens per row, the first `pad` are padding. */
const BATCH = [
  { ids: [0, 0, 5, 17, 42], pad: 2 },
  { ids: [7, 8, 9, 10, 11], pad: 0 },
  { ids: [0, 3, 250, 1, 99], pad: 1 },
];

/** Seeded non-zero values for every parameter (LoRA B and hirpf B start at zero). */

/**
 * Logits of a left-padded batch (no cache) from a graph exported with the adapter, either baked
 * or with its parameters fed as inputs; also the session's input names.
 */
async function adapterLogits(
  config: DecoderConfig,
  weights: DecoderWeightMap,
  adapter: Adapter,
  bake: boolean,
  identities?: string[][],
): Promise<{ logits: Float32Array; inputNames: readonly string[] }> {
  const dir = await Deno.makeTempDir();
  try {
    const res = await exportDecoder(config, weights, dir, {
      adapters: [adapter],
      bakeParameters: bake,
      cache: false,
      numLogitsToKeep: false,
      hiddenStates: false,
    });
    const s = await ort.InferenceSession.create(res.modelPath);
    const ids = BATCH.map((r) => r.ids);
    const mask = BATCH.map((r) => r.ids.map((_, t) => (t >= r.pad ? 1 : 0)));
    const pos = mask.map((r) => {
      let c = 0;
      return r.map((m) => (c += m, m ? c - 1 : 1));
    });
    const i64 = (rows: number[][]) =>
      new ort.Tensor("int64", BigInt64Array.from(rows.flat(), BigInt), [
        rows.length,
        rows[0].length,
      ]);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: i64(ids),
      attention_mask: i64(mask),
      position_ids: i64(pos),
    };
    if (!bake) {
      for (const p of adapter.parameters()) {
        feeds[p.name] = new ort.Tensor("float32", p.data.slice(), p.shape);
      }
    }
    const rt = adapter.runtimeInputs?.({
      batchSize: ids.length,
      ...(identities ? { extensions: { identities } } : {}),
    }) ?? {};
    for (const [name, t] of Object.entries(rt)) {
      feeds[name] = new ort.Tensor(t.dtype, t.data as Float32Array, t.shape);
    }
    const out = await s.run(feeds);
    const inputNames = s.inputNames;
    await s.release();
    return { logits: out.logits.data as Float32Array, inputNames };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Largest |logit − base model logit| at the last position of batch row `b` of {@link adapterLogits}. */
function maxDiffFromBase(
  config: DecoderConfig,
  weights: DecoderWeightMap,
  logits: Float32Array,
  b: number,
): number {
  const V = config.vocabSize;
  const base = referenceForward(config, weights, { inputIds: [BATCH[b].ids.slice(BATCH[b].pad)] });
  const want = base.logits[0].at(-1)!;
  const got = logits.subarray((b * 5 + 4) * V, (b * 5 + 5) * V);
  return Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
}

Deno.test("exportDecoder() bakeParameters gives exactly the logits of the input-parameter graph for a LoRA adapter", async () => {
  const { config, weights } = tinyLlama();
  const lora = LoraAdapter.forConfig(config, {
    r: 4,
    targetModules: ["q_proj", "v_proj", "down_proj", "lm_head"],
  });
  randomizeParameters(lora, 5, 0.2);
  const fed = await adapterLogits(config, weights, lora, false);
  const baked = await adapterLogits(config, weights, lora, true);
  const names = lora.parameters().map((p) => p.name);
  assert.ok(names.every((n) => fed.inputNames.includes(n)));
  assert.ok(!baked.inputNames.some((n) => names.includes(n)), baked.inputNames.join(", "));
  assert.deepEqual(baked.inputNames, ["input_ids", "attention_mask", "position_ids"]);
  assert.deepEqual(Array.from(baked.logits), Array.from(fed.logits));
  // The adapter changes the logits (so the equality above is not the base model twice).
  assert.ok(maxDiffFromBase(config, weights, fed.logits, 1) > 1e-3);
});

Deno.test("exportDecoder() bakeParameters gives exactly the logits of the input-parameter graph for a hirpf adapter", async () => {
  const { config, weights } = tinyLlama();
  const adapter = IdentityAdapter.create(config, { r: 2, seed: 3 });
  randomizeParameters(adapter, 6, 0.2);
  const identities = [[], ["EXT_high"], ["AGR_low", "Doctor"]];
  const fed = await adapterLogits(config, weights, adapter, false, identities);
  const baked = await adapterLogits(config, weights, adapter, true, identities);
  const names = new Set(adapter.parameters().map((p) => p.name));
  assert.ok(!baked.inputNames.some((n) => names.has(n)));
  // Identity masks stay runtime inputs.
  assert.ok(baked.inputNames.some((n) => n.startsWith("hirpf.mask.")), baked.inputNames.join());
  assert.deepEqual(Array.from(baked.logits), Array.from(fed.logits));
  // Rows with identities differ from the base model's; the row without any equals it.
  assert.ok(maxDiffFromBase(config, weights, baked.logits, 0) < 1e-4);
  assert.ok(maxDiffFromBase(config, weights, baked.logits, 1) > 1e-3);
  assert.ok(maxDiffFromBase(config, weights, baked.logits, 2) > 1e-3);
});

Deno.test("exportDecoder() writes baked parameters as external data holding the adapter's values", async () => {
  const { config, weights } = tinyLlama();
  const lora = LoraAdapter.forConfig(config, { r: 4 });
  randomizeParameters(lora, 7, 0.2);
  const dir = await Deno.makeTempDir();
  try {
    const res = await exportDecoder(config, weights, dir, {
      adapters: [lora],
      bakeParameters: true,
      align: 64,
    });
    const model = await readModel(res.modelPath);
    for (const p of lora.parameters()) {
      const init = model.graph.initializers.find((t) => t.name === p.name);
      assert.ok(init, `initializer ${p.name}`);
      assert.deepEqual(init.shape, p.shape);
      assert.deepEqual(Array.from(init.data as Float32Array), Array.from(p.data));
    }
    // Everything of 1 KiB or more lives in the data file: the .onnx holds no parameter bytes.
    const adapterBytes = lora.parameters().reduce((a, p) => a + p.data.byteLength, 0);
    assert.ok(adapterBytes > 4096);
    const external: string[] = [];
    decodeModel(await Deno.readFile(res.modelPath), {
      external: (ref) => (external.push(ref.location), new Uint8Array(ref.length)),
    });
    assert.ok(external.length >= lora.parameters().length);
    const meta = JSON.parse(model.metadata["dramatis.decoder"]);
    assert.equal(meta.bakedParameters, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildDecoderGraph() bakeParameters rejects parameters emit() declares but parameters() omits", () => {
  const { config, weights } = tinyLlama();
  const lora = LoraAdapter.forConfig(config, { r: 2 });
  const hidden: Adapter = {
    kind: "hidden",
    targets: (hooks) => lora.targets(hooks),
    parameters: () => lora.parameters().slice(1),
    emit: (hook, input, ops) => lora.emit(hook, input, ops),
    save: () => Promise.resolve(),
  };
  assert.throws(
    () => buildDecoderGraph(config, weights, { adapters: [hidden], bakeParameters: true }),
    (e: Error) =>
      errorCode(e) === "E_GRAPH" && /"lora\.layers\.0\.attn\.q_proj\.lora_A" are used by emit\(\)/
        .test(e.message),
  );
  // Without baking the same adapter builds (its parameters are graph inputs).
  const built = buildDecoderGraph(config, weights, { adapters: [hidden] });
  assert.equal(built.parameters.length, lora.parameters().length);
  assert.deepEqual(built.bakedParameters, []);
  assert.throws(
    () => buildDecoderGraph(config, weights, { adapters: [lora, lora], bakeParameters: true }),
    (e: Error) => errorCode(e) === "E_GRAPH" && /both have a parameter/.test(e.message),
  );
});

Deno.test("a fused graph over shared weights keeps every base weight in the shared file, blocked or not, the blocked gate/up product included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const c = toyConfig();
    const w = randomWeights(c, 2);
    const out = join(dir, "g");
    await exportDecoder(c, w, out, {
      kvCache: "resident",
      fused: true,
      blockedWeights: true,
      sharedWeightsDir: join(dir, "weights"),
    });
    const { graph } = decodeModel(await Deno.readFile(join(out, "model.onnx")), {
      external: "defer",
    });
    const location = (name: string) => {
      const data = graph.initializers.find((t) => t.name === name)?.data;
      assert.ok(data && isDeferred(data), `${name} is an external initializer`);
      return data.ref.location;
    };
    const shared = location("model.layers.0.self_attn.q_proj.weight_b16");
    assert.notEqual(shared, "model.onnx_data");
    for (let i = 0; i < c.numLayers; i++) {
      assert.equal(location(`model.layers.${i}.mlp.gate_up_proj.weight_b16`), shared);
      // k_proj has 8 outputs, which 16 does not divide: kept [out, in], in the same file.
      assert.equal(location(`model.layers.${i}.self_attn.k_proj.weight`), shared);
    }
    // An unfused graph lays q_proj out otherwise: the folder lacks it, and says so.
    await assert.rejects(
      exportDecoder(c, w, join(dir, "plain"), {
        kvCache: "resident",
        sharedWeightsDir: join(dir, "weights"),
      }),
      (e: Error) =>
        errorCode(e) === "E_GRAPH" &&
        /hold no "model\.layers\.0\.self_attn\.q_proj\.weight"/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
