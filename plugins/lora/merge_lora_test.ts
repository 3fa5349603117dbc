import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../../core/errors.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { loadWeights } from "../../core/model/weights.ts";
import { LoraAdapter } from "./lora_adapter.ts";
import { loraDelta, mergeLora } from "./merge_lora.ts";
import { writeMergedModel } from "./write_merged_model.ts";
import {
  assertClose,
  maxDiff,
  onnxLogits,
  randomizeLora,
  referenceLogits,
  tinyFixture,
} from "./testing/fixtures.ts";

const IDS = [[7, 70, 170, 27], [250, 12, 13, 14]];

Deno.test("loraDelta() is scaling · B A in [out, in] layout", () => {
  const hook = { name: "layers.0.attn.q_proj", layer: 0, inFeatures: 3, outFeatures: 2 };
  const lora = LoraAdapter.fromModules([hook], { r: 2, alpha: 4 }, [{
    hook: hook.name,
    A: new Float32Array([1, 2, 3, 4, 5, 6]), // [[1,2,3],[4,5,6]]
    B: new Float32Array([1, 0, 0, -1]), // [[1,0],[0,-1]]
  }]);
  // scaling 4/2 = 2; B A = [[1,2,3],[-4,-5,-6]].
  assert.deepEqual(Array.from(loraDelta(lora.modules()[0])), [2, 4, 6, -8, -10, -12]);
});

Deno.test("mergeLora() gives a plain decoder with the adapter's outputs", async () => {
  const f = await tinyFixture();
  const lora = new LoraAdapter(f.hooks, {
    r: 4,
    alpha: 12,
    useRslora: true,
    targetModules: ["all-linear", "lm_head"],
    seed: 2,
  });
  randomizeLora(lora, 31, 0.15);
  const before = new Map([...f.weights].map(([k, v]) => [k, v.data.slice()]));
  const merged = mergeLora(f.weights, lora);
  // The input map is untouched; untargeted tensors are shared.
  for (const [k, v] of f.weights) assert.deepEqual(v.data, before.get(k), k);
  assert.equal(merged.get("model.norm.weight"), f.weights.get("model.norm.weight"));
  assert.notEqual(
    merged.get("model.layers.1.mlp.down_proj.weight"),
    f.weights.get("model.layers.1.mlp.down_proj.weight"),
  );
  const withAdapter = await onnxLogits(f, IDS, [lora]);
  assertClose(await onnxLogits(f, IDS, [], { weights: merged }), withAdapter, 1e-4, "merged");
  assertClose(referenceLogits(f, IDS, undefined, merged), withAdapter, 1e-4, "reference");
  assert.ok(maxDiff(withAdapter, await onnxLogits(f, IDS, [])) > 1e-2);
});

Deno.test("mergeLora() refuses lm_head of a tied model and mismatched weights", async () => {
  const f = await tinyFixture();
  const lora = new LoraAdapter(f.hooks, { targetModules: ["lm_head", "q_proj"] });
  const tied = new Map(f.weights);
  tied.delete("lm_head.weight");
  assert.throws(() => mergeLora(tied, lora), (e) => {
    assert.match((e as Error).message, /ties lm_head to the input embedding/);
    assert.equal(errorCode(e), "E_WEIGHTS");
    return true;
  });
  const wrong = new Map(f.weights);
  wrong.set("model.layers.0.self_attn.q_proj.weight", {
    shape: [32, 64],
    data: new Float32Array(2048),
  });
  assert.throws(
    () => mergeLora(wrong, lora),
    /has shape \[32,64\] but the adapter was made for \[64, 64\]/,
  );
});

Deno.test("writeMergedModel() writes an HF directory that loads and runs as the merged model", async () => {
  const f = await tinyFixture();
  const lora = new LoraAdapter(f.hooks, { r: 2, alpha: 4, targetModules: ["o_proj", "gate_proj"] });
  randomizeLora(lora, 8, 0.2);
  const out = join(await Deno.makeTempDir({ prefix: "lora_merged_" }), "merged");
  const info = await writeMergedModel(f.dir, lora, out);
  assert.deepEqual(info.files, [
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  for (const name of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) {
    assert.deepEqual(await Deno.readFile(join(out, name)), await Deno.readFile(join(f.dir, name)));
  }
  const config = await readDecoderConfig(out);
  assert.deepEqual({ ...config, raw: undefined }, { ...f.config, raw: undefined });
  const weights = await loadWeights(out, config);
  const merged = mergeLora(f.weights, lora);
  for (const [name, t] of merged) assert.deepEqual(weights.get(name)?.data, t.data, name);
  assertClose(
    await onnxLogits({ ...f, weights }, IDS, []),
    await onnxLogits(f, IDS, [lora]),
    1e-4,
    "merged directory",
  );
  await Deno.remove(join(out, ".."), { recursive: true });
});
