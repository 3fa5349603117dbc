import assert from "node:assert/strict";
import type { Adapter, AdapterRuntimeRequest, RuntimeTensor } from "../contracts/adapter.ts";
import type { ResidualEdit } from "../contracts/steerer.ts";
import { parseDecoderConfig } from "../model/config.ts";
import { buildDecoderGraph, buildDecoderInto } from "../model/decoder_graph.ts";
import { referenceForward, type TokenRows } from "../model/testing/reference.ts";
import { tinyConfigJson, tinyWeights } from "../model/tiny.ts";
import { checkGradients } from "../onnx/autodiff/grad_check.ts";
import { GraphBuilder } from "../onnx/builder.ts";
import type { HostTensor } from "../onnx/ort_run.ts";
import { runModel } from "../onnx/ort_run.ts";
import { Prng } from "../util/prng.ts";
import { collate } from "./batches.ts";
import { appendCausalLmLoss } from "./loss_graph.ts";
import { adapterFeeds, microSeed, trainSteeringFeeds } from "./step_feeds.ts";
import { loraLike } from "./testing/lora_like.ts";
import { buildTrainGraph } from "./train_graph.ts";
import { trainLoop } from "./train_loop.ts";

const config = parseDecoderConfig(
  tinyConfigJson({ preset: "tiny-llama", vocabSize: 300, hiddenSize: 32, intermediateSize: 48 }),
  "config.json",
);
const weights = tinyWeights(config, 3);
const examples = [
  { inputIds: [5, 17, 42, 9, 3], labels: [-100, -100, 42, 9, 3] },
  { inputIds: [7, 299, 11], labels: [-100, 299, 11] },
];

function unitVector(seed: number): Float32Array {
  const rng = new Prng(seed);
  return Float32Array.from({ length: config.hiddenSize }, () => rng.normal());
}

const EDITS: ResidualEdit[] = [
  { block: 0, type: "add", vector: unitVector(1), coefficient: 2.5, positions: "all" },
  { block: 1, type: "ablate", vector: unitVector(2), coefficient: 1, positions: "all" },
];

function f64Feeds(feeds: Record<string, HostTensor>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(feeds)) {
    out[k] = v.dtype === "float32"
      ? { dtype: "float64", shape: v.shape, data: Float64Array.from(v.data as Float32Array) }
      : v;
  }
  return out;
}

Deno.test("trainSteeringFeeds() steered training loss equals the float64 reference decoder with the same edits", async () => {
  const lora = loraLike({ rank: 2, seed: 5, bStd: 0.3, scale: 1.5 });
  const tg = buildTrainGraph(config, weights, {
    adapters: [lora],
    dtype: "float64",
    reduction: "mean",
    steering: true,
  });
  const batch = collate(examples, 0);
  const feeds: Record<string, HostTensor> = {
    ...f64Feeds(batch.feeds),
    ...trainSteeringFeeds(tg, EDITS, batch),
  };
  for (const p of lora.parameters()) {
    feeds[p.name] = { dtype: "float64", shape: p.shape, data: Float64Array.from(p.data) };
  }
  const out = await runModel(tg.model, feeds, { graphOptimizationLevel: "basic" });
  const loss = Number((out.loss.data as Float64Array)[0]);

  // Oracle: plain TypeScript float64 forward with the LoRA delta and the same residual edits.
  const params = new Map(lora.parameters().map((p) => [p.name, p]));
  const ids = [[5, 17, 42, 9, 3], [7, 299, 11, 0, 0]];
  const ref = referenceForward(config, weights, {
    inputIds: ids,
    attentionMask: [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]],
    positionIds: [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]],
    edits: EDITS.map((e) => ({
      block: e.block,
      vector: e.vector,
      type: e.type,
      positions: () => (e.type === "add" ? e.coefficient : 1),
    })),
    linearHook: (name, x, y): TokenRows => {
      const A = params.get(`${name}.lora_A`)!;
      const B = params.get(`${name}.lora_B`)!;
      const [fin, r] = A.shape;
      const fout = B.shape[1];
      return y.map((row, b) =>
        row.map((yv, s) => {
          const xa = new Float64Array(r);
          for (let k = 0; k < r; k++) {
            for (let i = 0; i < fin; i++) xa[k] += x[b][s][i] * A.data[i * r + k];
          }
          const z = Float64Array.from(yv);
          for (let o = 0; o < fout; o++) {
            let d = 0;
            for (let k = 0; k < r; k++) d += xa[k] * B.data[k * fout + o];
            z[o] += 1.5 * d;
          }
          return z;
        })
      );
    },
  });
  let sum = 0, n = 0;
  examples.forEach((e, b) => {
    for (let t = 1; t < e.labels.length; t++) {
      if (e.labels[t] === -100) continue;
      const z = ref.logits[b][t - 1];
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
      sum += lse - z[e.labels[t]];
      n++;
    }
  });
  // 1e-7: the unit ablation direction is fed as float32 (the reference normalizes in float64).
  assert.ok(Math.abs(loss - sum / n) < 1e-7 * loss, `graph ${loss} reference ${sum / n}`);

  // Unsteered loss differs: the edits really reach the forward pass.
  const plain = await runModel(tg.model, {
    ...feeds,
    ...trainSteeringFeeds(tg, [], batch),
  }, { graphOptimizationLevel: "basic" });
  assert.ok(Math.abs(Number((plain.loss.data as Float64Array)[0]) - loss) > 1e-4);
});

Deno.test("buildTrainGraph() with steering: gradients under the edits match finite differences", async () => {
  const lora = loraLike({ rank: 2, seed: 9, bStd: 0.3 });
  const tg = buildTrainGraph(config, weights, {
    adapters: [lora],
    dtype: "float64",
    reduction: "mean",
    steering: true,
  });
  const b = new GraphBuilder({ floatType: "float64" });
  const values = buildDecoderInto(b, config, weights, {
    adapters: [lora],
    cache: false,
    numLogitsToKeep: false,
    hiddenStates: false,
    steering: true,
    dtype: "float64",
  });
  const labels = b.input("labels", "int64", ["batch_size", "sequence_length"]);
  b.output(
    "loss",
    "float64",
    [],
    appendCausalLmLoss(b, { logits: values.logits, labels, vocabSize: config.vocabSize }),
  );
  const batch = collate(examples, 0);
  const feeds: Record<string, HostTensor> = {
    ...f64Feeds(batch.feeds),
    ...trainSteeringFeeds(tg, EDITS, batch),
  };
  for (const p of lora.parameters()) {
    feeds[p.name] = { dtype: "float64", shape: p.shape, data: Float64Array.from(p.data) };
  }
  const wrt = tg.trainable.filter((n) => /layers\.[01]\.(attn\.q|mlp\.down)/.test(n));
  const results = await checkGradients(b.graph(), feeds, { loss: "loss", wrt, maxElements: 3 });
  const out = await runModel(tg.model, feeds, { graphOptimizationLevel: "basic" });
  for (const [name, r] of Object.entries(results)) {
    assert.ok(r.relativeError <= 1e-6, `${name}: relative error ${r.relativeError}`);
    const g = out[`grad.${name}`].data as Float64Array;
    r.indices.forEach((i, j) =>
      assert.ok(Math.abs(g[i] - r.numeric[j]) <= 1e-6 * (1 + Math.abs(g[i])))
    );
  }
});

Deno.test("trainSteeringFeeds() ablation removes the direction from the residual at every position", async () => {
  const { model } = buildDecoderGraph(config, weights, {
    steering: true,
    cache: false,
    numLogitsToKeep: false,
  });
  const batch = collate(examples, 0);
  const u = EDITS[1].vector;
  const ablate0: ResidualEdit[] = [{ ...EDITS[1], block: 0 }];
  const out = await runModel(model, {
    input_ids: batch.feeds.input_ids,
    attention_mask: batch.feeds.attention_mask,
    position_ids: batch.feeds.position_ids,
    ...trainSteeringFeeds({ config, dtype: "float32" }, ablate0, batch),
  });
  const h = out["hidden_states.1"].data as Float32Array;
  const norm = Math.hypot(...u);
  let worst = 0, size = 0;
  for (let row = 0; row < h.length / config.hiddenSize; row++) {
    let dot = 0, len = 0;
    for (let i = 0; i < config.hiddenSize; i++) {
      dot += h[row * config.hiddenSize + i] * u[i] / norm;
      len += h[row * config.hiddenSize + i] ** 2;
    }
    worst = Math.max(worst, Math.abs(dot));
    size = Math.max(size, Math.sqrt(len));
  }
  assert.ok(size > 1, "residual unexpectedly small");
  assert.ok(worst < 1e-4 * size, `largest component along u: ${worst}`);
});

Deno.test("trainSteeringFeeds() rejects a block outside the model and a wrong vector length", () => {
  const batch = collate(examples, 0);
  const g = { config, dtype: "float32" as const };
  assert.throws(
    () => trainSteeringFeeds(g, [{ ...EDITS[0], block: 2 }], batch),
    /block is 2; this model has blocks 0\.\.1/,
  );
  assert.throws(
    () => trainSteeringFeeds(g, [{ ...EDITS[0], vector: new Float32Array(3) }], batch),
    /3 values; this model's hidden size is 32/,
  );
});

/** A LoRA-like adapter with a frozen scale parameter and a per-row runtime mask from identities. */
function identityProbe(): Adapter & { requests: AdapterRuntimeRequest[] } {
  const inner = loraLike({ rank: 2, seed: 4, targets: (h) => h.name === "layers.0.attn.q_proj" });
  const requests: AdapterRuntimeRequest[] = [];
  const gain = { name: "probe.gain", shape: [1], data: new Float32Array([0.5]), trainable: false };
  return {
    kind: "probe",
    requests,
    targets: (hooks) => inner.targets(hooks),
    parameters: () => [...inner.parameters(), gain],
    emit(hook, input, ops) {
      const mask = ops.runtimeInput("probe.row_mask", "float32", ["batch_size", 1, 1]);
      const g = ops.parameter("probe.gain", [1]);
      const d = inner.emit(hook, input, ops);
      const [m] = ops.op("Mul", [d, mask]);
      return ops.op("Mul", [m, g])[0];
    },
    runtimeInputs(request): Record<string, RuntimeTensor> {
      requests.push(structuredClone(request));
      const data = Float32Array.from(
        (request.extensions!.identities as string[][]).map((ids) => (ids.includes("on") ? 1 : 0)),
      );
      return { "probe.row_mask": { dtype: "float32", shape: [request.batchSize, 1, 1], data } };
    },
    save: () => Promise.resolve(),
  };
}

Deno.test("trainLoop() passes per-row identities, sequence length and a per-micro-batch seed to runtimeInputs, and skips frozen parameters", async () => {
  const probe = identityProbe();
  const tg = buildTrainGraph(config, weights, { adapters: [probe] });
  assert.ok(!tg.trainable.includes("probe.gain"), "a trainable:false tensor was differentiated");
  assert.ok(tg.parameters.some((p) => p.name === "probe.gain"));
  const data = [
    { ...examples[0], identities: ["on"] },
    { ...examples[1], identities: ["off"] },
    { ...examples[0], identities: [] },
  ];
  const params = probe.parameters().map((p) => ({ ...p, data: Float32Array.from(p.data) }));
  const before = params.map((p) => Float32Array.from(p.data));
  await trainLoop(tg, params, data, undefined, {
    steps: 2,
    microBatchSize: 3,
    gradAccumulation: 1,
    bucketing: false,
    seed: 11,
    lr: 1e-2,
    progress: false,
    runner: "in-process",
    adapters: [probe],
  });
  assert.equal(probe.requests.length, 2);
  for (const [k, r] of probe.requests.entries()) {
    const req = r as AdapterRuntimeRequest & {
      sequenceLength: number;
      seed: number;
      phase: string;
    };
    assert.equal(req.batchSize, 3);
    assert.equal(req.sequenceLength, 5);
    assert.equal(req.seed, microSeed(11, k));
    assert.equal(req.phase, "train");
    assert.deepEqual(
      [...(req.extensions!.identities as string[][])].map((x) => x.join()).sort(),
      ["", "off", "on"],
    );
  }
  const gain = params.findIndex((p) => p.name === "probe.gain");
  assert.deepEqual([...params[gain].data], [...before[gain]], "the frozen gain moved");
  assert.ok(params.some((p, i) => i !== gain && p.data.some((v, j) => v !== before[i][j])));
});

Deno.test("adapterFeeds() names a runtime input no adapter provides, and feeds ones for dropout-style inputs in eval", () => {
  const probe = identityProbe();
  const tg = buildTrainGraph(config, weights, { adapters: [probe] });
  const batch = collate(examples, 0);
  assert.throws(
    () => adapterFeeds(tg, [], batch, { seed: 0, phase: "train" }),
    /train graph input "probe\.row_mask" got no value/,
  );
  const ev = adapterFeeds(tg, [], { ...batch }, { seed: 0, phase: "eval" });
  assert.deepEqual(ev["probe.row_mask"].shape, [2, 1, 1]);
  assert.deepEqual([...ev["probe.row_mask"].data as Float32Array], [1, 1]);
});
