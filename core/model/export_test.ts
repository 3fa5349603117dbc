import assert from "node:assert/strict";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { decodeModel } from "../onnx/deserialize.ts";
import { Prng } from "../util/prng.ts";
import type { DecoderConfig } from "./config.ts";
import type { DecoderWeightMap } from "./decoder_graph.ts";
import { exportDecoder, exportForTransformersJs } from "./export.ts";
import { referenceForward } from "./testing/reference.ts";
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
