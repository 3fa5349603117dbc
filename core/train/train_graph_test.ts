import assert from "node:assert/strict";
import { parseDecoderConfig } from "../model/config.ts";
import { tinyConfigJson, tinyWeights } from "../model/tiny.ts";
import { checkGradients } from "../onnx/autodiff/grad_check.ts";
import { GraphBuilder } from "../onnx/builder.ts";
import { makeModel } from "../onnx/ir.ts";
import type { HostTensor } from "../onnx/ort_run.ts";
import { runModel } from "../onnx/ort_run.ts";
import { buildDecoderInto } from "../model/decoder_graph.ts";
import { appendCausalLmLoss, IGNORE_INDEX } from "./loss_graph.ts";
import { loraLike } from "./testing/lora_like.ts";
import { baseParametersToHf, baseParameterValues, buildTrainGraph } from "./train_graph.ts";

const I64 = (rows: number[][]) => BigInt64Array.from(rows.flat(), BigInt);

/** Two right-padded rows: the second has 2 pad tokens; only some tokens carry loss. */
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

for (const preset of ["tiny-llama", "tiny-qwen3"] as const) {
  Deno.test(`buildTrainGraph() gradients of a whole ${preset} decoder with adapters on every hook match finite differences in float64`, async () => {
    const config = parseDecoderConfig(
      tinyConfigJson({ preset, vocabSize: 300, hiddenSize: 32, intermediateSize: 48 }),
      "config.json",
    );
    const weights = tinyWeights(config, 3);
    const lora = loraLike({ rank: 2, seed: 5, bStd: 0.3 });
    const tg = buildTrainGraph(config, weights, {
      adapters: [lora],
      dtype: "float64",
      reduction: "mean",
    });
    assert.equal(tg.trainable.length, 2 * (7 * config.numLayers + 1));
    // The graph is already differentiated; check its gradients against finite differences of the
    // forward graph's loss, by re-deriving from the forward graph.
    const b = new GraphBuilder({ floatType: "float64" });
    const values = buildDecoderInto(b, config, weights, {
      adapters: [lora],
      cache: false,
      numLogitsToKeep: false,
      hiddenStates: false,
      dtype: "float64",
    });
    const labels = b.input("labels", "int64", ["batch_size", "sequence_length"]);
    b.output(
      "loss",
      "float64",
      [],
      appendCausalLmLoss(b, { logits: values.logits, labels, vocabSize: config.vocabSize }),
    );
    const feeds = batch(config.vocabSize);
    for (const p of lora.parameters()) {
      feeds[p.name] = { dtype: "float64", shape: p.shape, data: Float64Array.from(p.data) };
    }
    const results = await checkGradients(b.graph(), feeds, {
      loss: "loss",
      wrt: tg.trainable,
      maxElements: 3,
      step: 1e-5,
    });
    for (const [name, r] of Object.entries(results)) {
      assert.ok(
        r.relativeError <= 1e-6,
        `${name}: relative error ${r.relativeError}; analytic ${r.analytic} numeric ${r.numeric}`,
      );
    }
    // The train graph itself (built by buildTrainGraph) returns the same gradients.
    const out = await runModel(tg.model, feeds, { graphOptimizationLevel: "basic" });
    for (const [name, r] of Object.entries(results)) {
      const g = out[`grad.${name}`].data as Float64Array;
      r.indices.forEach((i, j) =>
        assert.ok(Math.abs(g[i] - r.analytic[j]) <= 1e-12 * (1 + Math.abs(g[i])))
      );
    }
  });
}

Deno.test("appendCausalLmLoss() is the mean next-token cross-entropy over unmasked labels", async () => {
  const b = new GraphBuilder({ floatType: "float64" });
  const logits = b.input("logits", "float64", ["batch", "seq", 3]);
  const labels = b.input("labels", "int64", ["batch", "seq"]);
  b.output("loss", "float64", [], appendCausalLmLoss(b, { logits, labels, vocabSize: 3 }));
  const lg = [0.1, 0.5, -0.3, 1, 2, 3, -1, 0, 1, 0.2, 0.2, 0.2, 3, 1, 0, 0, 0, 0];
  const lab = [[-100, 2, 1], [IGNORE_INDEX, IGNORE_INDEX, 0]];
  const out = await runModel(makeModel(b.graph()), {
    logits: { dtype: "float64", shape: [2, 3, 3], data: Float64Array.from(lg) },
    labels: { dtype: "int64", shape: [2, 3], data: I64(lab) },
  });
  // Host oracle: position t predicts label t+1.
  const nll = (row: number, t: number, target: number) => {
    const z = lg.slice((row * 3 + t) * 3, (row * 3 + t) * 3 + 3);
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    return lse - z[target];
  };
  const expected = (nll(0, 0, 2) + nll(0, 1, 1) + nll(1, 1, 0)) / 3;
  assert.ok(Math.abs(Number((out.loss.data as Float64Array)[0]) - expected) < 1e-12);
});

for (const preset of ["tiny-llama", "tiny-qwen3"] as const) {
  Deno.test(`buildTrainGraph() full-parameter (${preset}): base-weight gradients match finite differences`, async () => {
    const config = parseDecoderConfig(
      tinyConfigJson({ preset, vocabSize: 300, hiddenSize: 32, intermediateSize: 48 }),
      "config.json",
    );
    const weights = tinyWeights(config, 4);
    const tg = buildTrainGraph(config, weights, {
      adapters: [],
      dtype: "float64",
      reduction: "mean",
      trainBase: "all",
    });
    assert.equal(tg.base.length, weights.size);
    assert.equal(tg.trainable.length, weights.size);
    // gate_proj (more outputs than inputs) is held transposed, a MatMul operand.
    const gate = tg.base.find((p) => p.hfName === "model.layers.0.mlp.gate_proj.weight")!;
    assert.equal(gate.transposed, true);
    assert.deepEqual(gate.shape, [...weights.get(gate.hfName)!.shape].reverse());
    // The square q_proj and down_proj (more inputs than outputs) stay in the HF layout, Gemm(transB)
    // operands.
    const q = tg.base.find((p) => p.hfName === "model.layers.0.self_attn.q_proj.weight")!;
    const [qRows, qCols] = weights.get(q.hfName)!.shape;
    assert.equal(q.transposed, qRows > qCols);
    const down = tg.base.find((p) => p.hfName === "model.layers.1.mlp.down_proj.weight")!;
    assert.equal(down.transposed, false);
    assert.deepEqual(down.shape, weights.get(down.hfName)!.shape);
    // The forward graph with base weights as inputs (what the train graph differentiates).
    const b = new GraphBuilder({ floatType: "float64" });
    const values = buildDecoderInto(b, config, weights, {
      cache: false,
      numLogitsToKeep: false,
      hiddenStates: false,
      dtype: "float64",
    });
    const labels = b.input("labels", "int64", ["batch_size", "sequence_length"]);
    b.output(
      "loss",
      "float64",
      [],
      appendCausalLmLoss(b, { logits: values.logits, labels, vocabSize: config.vocabSize }),
    );
    const feeds = batch(config.vocabSize);
    const values0 = baseParameterValues(tg, weights);
    for (const p of values0) {
      feeds[p.name] = { dtype: "float64", shape: p.shape, data: Float64Array.from(p.data) };
    }
    const g = b.graph();
    const lifted = new Set(values0.map((p) => p.name));
    const forward = {
      ...g,
      initializers: g.initializers.filter((t) => !lifted.has(t.name)),
      inputs: [
        ...g.inputs,
        ...tg.base.map((p) => ({ name: p.name, dtype: "float64" as const, shape: p.shape })),
      ],
    };
    // Graph input names of the chosen weights (transposed ones end in `_t`).
    const inputOf = (hf: string) => tg.base.find((p) => p.hfName === hf)!.name;
    const wrt = [
      "model.embed_tokens.weight",
      "model.layers.0.input_layernorm.weight",
      "model.layers.1.mlp.down_proj.weight",
      inputOf("model.layers.0.self_attn.k_proj.weight"),
      "model.norm.weight",
      ...(config.tieWordEmbeddings ? [] : ["lm_head.weight_t"]),
    ];
    const results = await checkGradients(forward, feeds, {
      loss: "loss",
      wrt,
      maxElements: 3,
      step: 1e-5,
    });
    const out = await runModel(tg.model, feeds, { graphOptimizationLevel: "basic" });
    for (const [name, r] of Object.entries(results)) {
      assert.ok(r.relativeError <= 1e-6, `${name}: relative error ${r.relativeError}`);
      const gr = out[`grad.${name}`].data as Float64Array;
      r.indices.forEach((i, j) =>
        assert.ok(Math.abs(gr[i] - r.analytic[j]) <= 1e-12 * (1 + Math.abs(gr[i])))
      );
    }
    // Round trip of the layouts.
    const hf = baseParametersToHf(tg, values0);
    for (const [name, w] of weights) assert.deepEqual(hf.get(name)!.data, w.data, name);
  });
}
