/**
 * QLoRA-style training graphs: adapters over a frozen int4 / int8 base (MatMulNBits linear
 * layers and lm_head, GatherBlockQuantized embedding). Oracle: the float64 train graph of the
 * dequantized weights, whose gradients train_graph_test.ts checks against finite differences.
 */
import assert from "node:assert/strict";
import { parseDecoderConfig } from "../model/config.ts";
import { dequantizedWeights } from "../model/quantize.ts";
import { QUANT_GRAD_SETTINGS } from "../onnx/autodiff/rules_quant.ts";
import { tinyConfigJson, tinyWeights } from "../model/tiny.ts";
import { buildGradientGraph } from "../onnx/autodiff/gradient.ts";
import type { HostTensor } from "../onnx/ort_run.ts";
import { runModel } from "../onnx/ort_run.ts";
import { loraLike } from "./testing/lora_like.ts";
import { buildTrainGraph } from "./train_graph.ts";
import { join } from "node:path";
import { readDecoderConfig } from "../model/config.ts";
import { createTinyModel } from "../model/tiny.ts";
import { loadWeights, streamWeights } from "../model/weights.ts";
import { packedModel, type Packing } from "../model/testing/prequant_pack.ts";

const I64 = (rows: number[][]) => BigInt64Array.from(rows.flat(), BigInt);

function batch(vocab: number): Record<string, HostTensor> {
  const ids = [[5, 17, 42, 9, 3], [7, vocab - 1, 11, 0, 0]];
  const mask = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]];
  const labels = [[-100, -100, 42, 9, 3], [-100, vocab - 1, 11, -100, -100]];
  const shape = [2, 5];
  return {
    input_ids: { dtype: "int64", shape, data: I64(ids) },
    attention_mask: { dtype: "int64", shape, data: I64(mask) },
    position_ids: { dtype: "int64", shape, data: I64([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]) },
    labels: { dtype: "int64", shape, data: I64(labels) },
  };
}

/** max |a - b| / max |b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / Math.max(scale, 1e-30);
}

// Tolerance of the float32 quantized graph against the float64 reference of the same
// dequantized weights: 1e-4 relative (float32 rounding through a 2-layer decoder is ~1e-6;
// a wrong nibble order, scale or zero point gives errors of order 1e-1).
const TOL = 1e-4;

/**
 * Runs the quantized train graph `tq` (float32) and its float64 reference `ref` on one batch with
 * the adapter's parameters (and the trained `base` weights' values), and checks the loss (1e-5)
 * and every trainable gradient ({@link TOL}).
 * `written` runs once the quantized model has been written (streamed weights can then close).
 */
async function assertMatchesFloat64(
  tq: ReturnType<typeof buildTrainGraph>,
  ref: ReturnType<typeof buildTrainGraph>,
  adapter: ReturnType<typeof loraLike>,
  vocab: number,
  what: string,
  written: () => void = () => {},
  base: { name: string; shape: number[]; data: Float32Array }[] = [],
): Promise<void> {
  assert.deepEqual(tq.trainable, ref.trainable);
  const data = batch(vocab);
  const f32: Record<string, HostTensor> = { ...data };
  const f64: Record<string, HostTensor> = { ...data };
  for (const p of [...adapter.parameters(), ...base]) {
    f32[p.name] = { dtype: "float32", shape: p.shape, data: Float32Array.from(p.data) };
    f64[p.name] = { dtype: "float64", shape: p.shape, data: Float64Array.from(p.data) };
  }
  const got = await runModel(tq.model, f32).finally(written);
  const want = await runModel(ref.model, f64, { graphOptimizationLevel: "basic" });
  const loss = (got.loss.data as Float32Array)[0];
  const lossRef = (want.loss.data as Float64Array)[0];
  assert.ok(
    Math.abs(loss - lossRef) <= 1e-5 * Math.abs(lossRef),
    `${what}: loss ${loss} vs ${lossRef}`,
  );
  for (const name of tq.trainable) {
    const e = relErr(
      got[`grad.${name}`].data as Float32Array,
      want[`grad.${name}`].data as Float64Array,
    );
    if (Deno.env.get("DRAMATIS_PRINT_ERR")) console.log(name, e);
    assert.ok(e <= TOL, `${what} ${name}: relative error ${e}`);
  }
}

const CASES = [
  ["tiny-qwen3", "int4", 0, 32],
  ["tiny-qwen3", "int8", 0, 32],
  ["tiny-llama", "int4", 0, 32],
  ["tiny-llama", "int8", 0, 32],
  // Blocks of 128 (int4's and int8's default) over hidden 128.
  ["tiny-llama", "int4", 0, 128],
  // Dequantized in chunks of 1000 weights (the lm_head in 20 slices of its rows).
  ["tiny-qwen3", "int4", 1000, 32],
] as const;

for (const [preset, dtype, chunk, blockSize] of CASES) {
  {
    Deno.test(
      `buildTrainGraph() over a ${dtype}:${blockSize} base (${preset}${
        chunk ? `, dequantized ${chunk} weights at a time` : ""
      }): adapter gradients match the float64 graph of the dequantized weights`,
      async () => {
        // intermediate 48 is not a multiple of the block size: down_proj has a partial block.
        const hiddenSize = Math.max(64, blockSize);
        const config = parseDecoderConfig(
          tinyConfigJson({ preset, vocabSize: 300, hiddenSize, intermediateSize: 48 }),
          "config.json",
        );
        const weights = tinyWeights(config, 3);
        const lora = loraLike({ rank: 2, seed: 5, bStd: 0.3 });
        const format = { dtype, blockSize, accuracyLevel: 0 };
        const saved = QUANT_GRAD_SETTINGS.chunkElements;
        if (chunk) QUANT_GRAD_SETTINGS.chunkElements = chunk;
        let tq;
        try {
          tq = buildTrainGraph(config, weights, {
            adapters: [lora],
            reduction: "mean",
            weights: format,
          });
        } finally {
          QUANT_GRAD_SETTINGS.chunkElements = saved;
        }
        const slices = tq.model.graph.nodes.filter((n) => n.opType === "Slice").length;
        if (chunk) assert.ok(slices > 20, `${slices} slices`);
        const ops = new Set(tq.model.graph.nodes.map((n) => n.opType));
        assert.ok(ops.has("MatMulNBits") && ops.has("GatherBlockQuantized"), [...ops].join(" "));
        const ref = buildTrainGraph(config, dequantizedWeights(weights, format), {
          adapters: [lora],
          reduction: "mean",
          dtype: "float64",
        });
        await assertMatchesFloat64(tq, ref, lora, config.vocabSize, `${dtype}:${blockSize}`);
      },
    );
  }
}

Deno.test("MatMulNBits gradient: the packed weights and scales are frozen (E_GRAD_RULE names the fix)", () => {
  const config = parseDecoderConfig(
    tinyConfigJson({ preset: "tiny-qwen3", vocabSize: 300, hiddenSize: 64, intermediateSize: 48 }),
    "config.json",
  );
  const tq = buildTrainGraph(config, tinyWeights(config, 3), {
    adapters: [loraLike({ rank: 2, seed: 5, bStd: 0.3 })],
    weights: { dtype: "int4" },
  });
  const scales = tq.model.graph.initializers.find((t) => /q_proj.*\.scales$/.test(t.name))!;
  assert.ok(scales, "a q_proj scales initializer");
  const graph = tq.model.graph;
  const forward = { ...graph, outputs: graph.outputs.filter((o) => o.name === "loss") };
  assert.throws(
    () => buildGradientGraph(forward, { loss: "loss", wrt: [scales.name] }),
    (e: Error & { code?: string }) =>
      e.code === "E_GRAD_RULE" && /frozen quantized weight/.test(e.message) &&
      /--dtype f32/.test(e.message),
  );
  assert.throws(
    () =>
      buildTrainGraph(config, tinyWeights(config, 3), {
        adapters: [],
        trainBase: "all",
        weights: { dtype: "int8" },
      }),
    (e: Error & { code?: string }) => e.code === "E_USAGE" && /trainBase/.test(e.message),
  );
});

Deno.test("buildTrainGraph() over a GPTQ/AWQ base at its own levels (zero points, act-order): adapter gradients match the float64 graph of those weights", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_qlora_native_" });
  try {
    const src = join(root, "src");
    await createTinyModel(src, { preset: "tiny-llama", seed: 3 });
    const cases: Packing[] = [
      { method: "gptq", bits: 4, groupSize: 32, actOrder: true },
      { method: "gptq", bits: 8, groupSize: 32, format: "gptq_v2" },
      { method: "awq", bits: 4, groupSize: 32 },
    ];
    for (const [i, p] of cases.entries()) {
      const dtype = p.bits === 4 ? "int4" as const : "int8" as const;
      // The reference holds each layer's dequantized levels and the embedding as stored at dtype.
      await Deno.mkdir(join(root, `m${i}`));
      const dirs = await packedModel(join(root, `m${i}`), src, { ...p, tables: { dtype } });
      const config = await readDecoderConfig(dirs.packed);
      const lora = loraLike({ rank: 2, seed: 5, bStd: 0.3 });
      const streamed = await streamWeights(dirs.packed, config);
      const tq = buildTrainGraph(config, streamed.weights, {
        adapters: [lora],
        reduction: "mean",
        weights: { dtype, accuracyLevel: 0 },
      });
      const nodes = tq.model.graph.nodes;
      const withZeros = nodes.filter((n) => n.opType === "MatMulNBits" && n.inputs[3]);
      assert.equal(withZeros.length, 7 * config.numLayers, JSON.stringify(p));
      const ref = buildTrainGraph(config, await loadWeights(dirs.reference, config), {
        adapters: [lora],
        reduction: "mean",
        dtype: "float64",
      });
      // The streamed layers are read while the model is written.
      await assertMatchesFloat64(
        tq,
        ref,
        lora,
        config.vocabSize,
        JSON.stringify(p),
        () => streamed.close(),
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("buildTrainGraph() over an int4 base trains a norm (float32 in every format) against the float64 graph; matrices are refused", async () => {
  const config = parseDecoderConfig(
    tinyConfigJson({ preset: "tiny-llama", vocabSize: 300, hiddenSize: 64, intermediateSize: 48 }),
    "config.json",
  );
  const weights = tinyWeights(config, 3);
  const format = { dtype: "int4" as const, blockSize: 32, accuracyLevel: 0 };
  const lora = loraLike({ rank: 2, seed: 5, bStd: 0.3 });
  const trainBase = ["model.norm.weight", "model.layers.0.input_layernorm.weight"];
  const tq = buildTrainGraph(config, weights, { adapters: [lora], trainBase, weights: format });
  assert.ok(tq.model.graph.nodes.some((n) => n.opType === "MatMulNBits"));
  const ref = buildTrainGraph(config, dequantizedWeights(weights, format), {
    adapters: [lora],
    trainBase,
    dtype: "float64",
  });
  const base = trainBase.map((name) => ({ name, ...weights.get(name)! }));
  await assertMatchesFloat64(tq, ref, lora, config.vocabSize, "int4 norms", undefined, base);
  assert.throws(
    () =>
      buildTrainGraph(config, weights, {
        adapters: [],
        trainBase: ["model.layers.0.mlp.up_proj.weight"],
        weights: format,
      }),
    (e: Error & { code?: string }) =>
      e.code === "E_USAGE" && /up_proj\.weight" would be stored as int4/.test(e.message),
  );
});
