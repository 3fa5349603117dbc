import assert from "node:assert/strict";
import { errorCode } from "../../core/errors.ts";
import { buildDecoderGraph, decoderHooks } from "../../core/model/decoder_graph.ts";
import { adapterConformance, RecordingOps } from "../../tests/conformance/adapter.ts";
import { LoraAdapter } from "./lora_adapter.ts";
import {
  assertClose,
  maxDiff,
  onnxLogits,
  randomizeLora,
  referenceLogits,
  referenceModules,
  tinyFixture,
} from "./testing/fixtures.ts";

const IDS = [[5, 17, 42, 99, 7, 250], [1, 2, 3, 200, 150, 9]];

Deno.test("LoraAdapter passes the Adapter conformance suite", async (t) => {
  const { hooks } = await tinyFixture();
  await adapterConformance(t, { adapter: new LoraAdapter(hooks), hooks });
  await adapterConformance(t, {
    adapter: new LoraAdapter(hooks, { targetModules: ["all-linear", "lm_head"], useRslora: true }),
    hooks,
  });
});

Deno.test("LoraAdapter passes the Adapter conformance suite in training mode with dropout", async (t) => {
  const { hooks } = await tinyFixture();
  const lora = new LoraAdapter(hooks, { dropout: 0.1, targetModules: ["up_proj"] });
  lora.training = true;
  // The suite's runtime request has no sequence length; a wrapper supplies one.
  const adapter = Object.assign(Object.create(lora), {
    runtimeInputs: (r: { batchSize: number }) => lora.runtimeInputs({ ...r, sequenceLength: 3 }),
    emit: lora.emit.bind(lora),
    targets: lora.targets.bind(lora),
    parameters: lora.parameters.bind(lora),
    save: lora.save.bind(lora),
  });
  await adapterConformance(t, { adapter, hooks });
});

Deno.test("LoraAdapter() initialises A ~ U(-1/√in, 1/√in) from the seed and B = 0", async () => {
  const { hooks } = await tinyFixture();
  const a = new LoraAdapter(hooks, { r: 8, targetModules: "all-linear", seed: 11 });
  const same = new LoraAdapter(hooks, { r: 8, targetModules: "all-linear", seed: 11 });
  const other = new LoraAdapter(hooks, { r: 8, targetModules: "all-linear", seed: 12 });
  assert.equal(a.modules().length, 14);
  for (const [i, m] of a.modules().entries()) {
    const bound = 1 / Math.sqrt(m.hook.inFeatures);
    assert.ok(m.A.every((v) => Math.abs(v) <= bound), m.hook.name);
    assert.ok(m.B.every((v) => v === 0), m.hook.name);
    // Variance of U(-b, b) is b²/3.
    const mean = m.A.reduce((s, v) => s + v, 0) / m.A.length;
    const variance = m.A.reduce((s, v) => s + (v - mean) ** 2, 0) / m.A.length;
    assert.ok(Math.abs(variance / (bound * bound / 3) - 1) < 0.15, `${m.hook.name}: ${variance}`);
    assert.deepEqual(m.A, same.modules()[i].A);
    assert.notDeepEqual(m.A, other.modules()[i].A);
  }
});

Deno.test("LoraAdapter scales by alpha/r, or alpha/√r with rsLoRA", async () => {
  const { hooks } = await tinyFixture();
  const plain = new LoraAdapter(hooks, { r: 32, alpha: 64 });
  const rs = new LoraAdapter(hooks, { r: 32, alpha: 64, useRslora: true });
  assert.equal(plain.modules()[0].scaling, 2);
  assert.ok(Math.abs(rs.modules()[0].scaling - 11.3137084989848) < 1e-12);
});

Deno.test("LoraAdapter.parameters() names A [r, in] and B [out, r] per hook in hook order", async () => {
  const { hooks } = await tinyFixture();
  const lora = new LoraAdapter(hooks, { r: 4, targetModules: ["q_proj", "down_proj"] });
  assert.deepEqual(
    lora.parameters().map((p) => [p.name, p.shape]),
    [
      ["lora.layers.0.attn.q_proj.lora_A", [4, 64]],
      ["lora.layers.0.attn.q_proj.lora_B", [64, 4]],
      ["lora.layers.0.mlp.down_proj.lora_A", [4, 128]],
      ["lora.layers.0.mlp.down_proj.lora_B", [64, 4]],
      ["lora.layers.1.attn.q_proj.lora_A", [4, 64]],
      ["lora.layers.1.attn.q_proj.lora_B", [64, 4]],
      ["lora.layers.1.mlp.down_proj.lora_A", [4, 128]],
      ["lora.layers.1.mlp.down_proj.lora_B", [64, 4]],
    ],
  );
  // Live arrays: a trainer's in-place update is what the next run feeds.
  lora.parameters()[1].data[0] = 0.5;
  assert.equal(lora.modules()[0].B[0], 0.5);
  lora.setParameter("lora.layers.0.attn.q_proj.lora_B", new Float32Array(256).fill(0.25));
  assert.equal(lora.modules()[0].B[255], 0.25);
  assert.throws(() => lora.setParameter("lora.nope", [1]), /not a parameter/);
  assert.throws(() => lora.setParameter("lora.layers.0.attn.q_proj.lora_B", [1]), /256 values/);
});

Deno.test("LoraAdapter in the ONNX decoder equals the float64 reference with the same LoRA", async () => {
  const f = await tinyFixture();
  for (const useRslora of [false, true]) {
    const lora = new LoraAdapter(f.hooks, {
      r: 4,
      alpha: 8,
      useRslora,
      targetModules: ["all-linear", "lm_head"],
      seed: 5,
    });
    randomizeLora(lora, useRslora ? 2 : 1, 0.15);
    const got = await onnxLogits(f, IDS, [lora]);
    const want = referenceLogits(f, IDS, referenceModules(lora));
    assertClose(got, want, 1e-4, `rsLoRA ${useRslora}`);
    // The LoRA matters, so the comparison can fail.
    assert.ok(maxDiff(want, referenceLogits(f, IDS)) > 1e-2);
  }
});

Deno.test("LoraAdapter in a float64 decoder graph matches the reference to 1e-9", async () => {
  const f = await tinyFixture();
  const lora = new LoraAdapter(f.hooks, { r: 3, alpha: 5, targetModules: ["v_proj", "up_proj"] });
  randomizeLora(lora, 9, 0.2);
  const got = await onnxLogits(f, IDS, [lora], { dtype: "float64" });
  assertClose(got, referenceLogits(f, IDS, referenceModules(lora)), 1e-9, "float64");
});

Deno.test("LoraAdapter() with B = 0 leaves the decoder's logits unchanged", async () => {
  const f = await tinyFixture();
  const lora = new LoraAdapter(f.hooks, { targetModules: "all-linear" });
  assertClose(await onnxLogits(f, IDS, [lora]), await onnxLogits(f, IDS, []), 1e-6, "B = 0");
});

Deno.test("LoraAdapter dropout: identity at inference, runtime masks while training", async () => {
  const f = await tinyFixture();
  const lora = new LoraAdapter(f.hooks, { dropout: 0.5, targetModules: ["q_proj", "up_proj"] });
  randomizeLora(lora, 4, 0.2);
  assert.deepEqual(lora.runtimeInputs({ batchSize: 2, sequenceLength: 6 }), {});
  const inference = buildDecoderGraph(f.config, f.weights, { adapters: [lora], cache: false });
  assert.ok(!inference.inputs.some((i) => i.name.includes("dropout")));

  lora.training = true;
  const ops = new RecordingOps();
  lora.emit(f.hooks[0], ops.declare("x"), ops);
  assert.deepEqual(ops.runtimeInputs.get("lora.layers.0.attn.q_proj.dropout_mask"), {
    dtype: "float32",
    shape: ["batch_size", "sequence_length", 64],
  });
  assert.throws(() => lora.runtimeInputs({ batchSize: 2 }), /sequenceLength/);
  const feeds = lora.runtimeInputs({ batchSize: 2, sequenceLength: 6, seed: 3 });
  assert.deepEqual(Object.keys(feeds).length, 4);
  const mask = feeds["lora.layers.1.mlp.up_proj.dropout_mask"];
  assert.deepEqual(mask.shape, [2, 6, 64]);
  const values = mask.data as Float32Array;
  assert.ok(values.every((v) => v === 0 || v === 2));
  const dropped = values.filter((v) => v === 0).length / values.length;
  assert.ok(dropped > 0.4 && dropped < 0.6, `dropped fraction ${dropped}`);
  assert.deepEqual(lora.runtimeInputs({ batchSize: 2, sequenceLength: 6, seed: 3 }), feeds);
  assert.notDeepEqual(lora.runtimeInputs({ batchSize: 2, sequenceLength: 6 }), feeds);

  const modules = referenceModules(lora);
  for (const [name, m] of modules) m.mask = feeds[lora.dropoutMaskName(name)].data as Float32Array;
  const got = await onnxLogits(f, IDS, [lora], {
    extra: Object.fromEntries(
      Object.entries(feeds).map(([k, v]) => [k, { ...v, data: v.data as Float32Array }]),
    ),
  });
  assertClose(got, referenceLogits(f, IDS, modules), 1e-4, "dropout masks");
  lora.training = false;
  assert.ok(maxDiff(got, await onnxLogits(f, IDS, [lora])) > 1e-3);
});

Deno.test("LoraAdapter rejects a model whose layers do not fit its modules", async () => {
  const { config, hooks } = await tinyFixture();
  const lora = new LoraAdapter(hooks, { targetModules: ["q_proj"] });
  const wider = decoderHooks({ ...config, hiddenSize: 32, headDim: 8 });
  assert.throws(() => lora.targets(wider), (e) => {
    assert.match((e as Error).message, /made for \[out 64, in 64\]/);
    assert.equal(errorCode(e), "E_WEIGHTS");
    return true;
  });
  const fewer = decoderHooks({ ...config, numLayers: 1 });
  assert.throws(() => lora.targets(fewer), /layers\.1\.attn\.q_proj has no matching layer/);
  const ops = new RecordingOps();
  assert.throws(
    () => lora.emit(hooks[1], ops.declare("x"), ops),
    /no module at layers\.0\.attn\.k_proj/,
  );
});

Deno.test("LoraAdapter() validates its options", async () => {
  const { hooks } = await tinyFixture();
  for (
    const [options, pattern] of [
      [{ r: 0 }, /option r is 0/],
      [{ alpha: -1 }, /option alpha is -1/],
      [{ dropout: 1 }, /option dropout is 1/],
      [{ targetModules: ["qq_proj"] }, /"qq_proj" matches no linear layer/],
      [{ layers: [7] }, /selects no layer/],
      [{ name: "a.b" }, /option name/],
    ] as const
  ) {
    try {
      new LoraAdapter(hooks, options as never);
      assert.fail(`accepted ${JSON.stringify(options)}`);
    } catch (e) {
      assert.match((e as Error).message, pattern);
      assert.equal(errorCode(e), "E_CONFIG");
    }
  }
});
