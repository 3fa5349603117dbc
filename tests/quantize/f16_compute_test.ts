/**
 * Float16 compute graphs (what the cuda and webgpu providers load by default for f16/bf16
 * weights, `compute: "f16"` anywhere): every weight and float constant in the graph is float16,
 * and the results stay within float16 rounding of the float32 graph of the same float16 weights,
 * with LoRA, identity experts, steering and hidden states on a tiny model, and for the real
 * babyllama-105 checkpoint against llama2.c's float32 logits (skipped with a message where
 * ../shared is absent). onnxruntime's CPU provider runs float16 operators it has no kernel for
 * through casts, so these checks run here; speed and device memory need a GPU.
 */

import { randomizeParameters } from "../../core/model/testing/adapters.ts";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readDecoderConfig } from "../../core/model/config.ts";
import { defaultCompute, Engine } from "../../core/model/engine.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { decodeModel } from "../../core/onnx/deserialize.ts";
import { IdentityAdapter } from "../../plugins/hirpf/adapter.ts";
import { LoraAdapter } from "../../plugins/lora/lora_adapter.ts";

const BABYLLAMA = new URL("../../../shared/models/babyllama-105", import.meta.url).pathname;

/** Largest |a - b| over the rows of `[B, S, V]` logits whose positions are real (not padding). */
function maxDiff(a: Float32Array, b: Float32Array, rows: number[][], S: number): number {
  const V = a.length / (rows.length * S);
  let m = 0;
  rows.forEach((ids, r) => {
    for (let s = S - ids.length; s < S; s++) {
      for (let v = 0; v < V; v++) {
        const i = (r * S + s) * V + v;
        m = Math.max(m, Math.abs(a[i] - b[i]));
      }
    }
  });
  return m;
}

function absMax(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

Deno.test("defaultCompute: float16 graphs for f16/bf16 weights on GPU providers only", () => {
  assert.equal(defaultCompute("cuda", "f16"), "f16");
  assert.equal(defaultCompute("webgpu", "bf16"), "f16");
  assert.equal(defaultCompute("cuda", "int4"), "f32");
  assert.equal(defaultCompute("cpu", "f16"), "f32");
  assert.equal(defaultCompute("cpu", "f16", "f16"), "f16");
  assert.throws(() => defaultCompute("cpu", "f16", "f8" as "f16"), /use "f32" or "f16"/);
});

Deno.test("compute f16: float16 weights in the graph; LoRA, identities, steering and hidden states within float16 rounding of f32", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_f16c_" });
  const engines: Engine[] = [];
  try {
    const model = join(root, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    const config = await readDecoderConfig(model);
    const identity = IdentityAdapter.create(config, { r: 2, seed: 4 });
    randomizeParameters(identity, 8);
    const lora = LoraAdapter.forConfig(config, { r: 2 });
    randomizeParameters(lora, 9);
    const ids = [[5, 9, 12, 40, 7, 3], [8, 2, 11]];
    const extensions = [{ identities: ["EXT_high"] }, { identities: ["AGR_low", "Doctor"] }];
    const vector = Float32Array.from({ length: config.hiddenSize }, (_, i) => Math.sin(i));
    const edits = [
      { block: 0, type: "add" as const, vector, coefficient: 1.5, positions: "all" as const },
    ];
    const results = [];
    for (const compute of ["f32", "f16"] as const) {
      const engine = await Engine.load(model, {
        dtype: "f16",
        compute,
        adapters: [identity, lora],
        steering: true,
        cacheDir: join(root, "cache"),
        threads: 1,
      });
      engines.push(engine);
      const forward = await engine.forward(ids, { extensions, edits, hiddenStates: true });
      const greedy = await engine.generate("Hello there", {
        maxNewTokens: 8,
        extensions: { identities: ["EXT_high"] },
        edits,
      });
      results.push({ forward, tokens: greedy.completions[0].tokens, graph: engine.graphPath });
    }
    const [f32, f16] = results;
    assert.notEqual(f32.graph, f16.graph, "each precision is its own cached graph");
    const model16 = decodeModel(await Deno.readFile(f16.graph), {
      external: (ref) => new Uint8Array(ref.length),
    });
    const floats = model16.graph.initializers.filter((t) => t.dtype.startsWith("float"));
    assert.ok(floats.length > 10);
    assert.deepEqual([...new Set(floats.map((t) => t.dtype))], ["float16"]);
    const S = f32.forward.logits.dims[1];
    const a = f32.forward.logits.data as Float32Array;
    const b = f16.forward.logits.data as Float32Array;
    const rel = maxDiff(b, a, ids, S) / absMax(a);
    // float16 keeps 11 significant bits; measured 1.6e-3 of the logits' scale without adapters.
    assert.ok(rel < 5e-3, `logits differ by ${rel} of their scale`);
    const hidden = (r: typeof f32) => r.forward.hiddenStates!.at(-1)!.data as Float32Array;
    const hRel = maxDiff(hidden(f16), hidden(f32), ids, S) / absMax(hidden(f32));
    assert.ok(hRel < 5e-3, `last hidden states differ by ${hRel} of their scale`);
    assert.deepEqual(f16.tokens, f32.tokens);
  } finally {
    for (const e of engines) await e.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "compute f16 on babyllama-105: llama2.c's greedy tokens and logits within 0.05",
  ignore: !existsSync(join(BABYLLAMA, "reference", "prompts.json")),
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "dramatis_f16b_" });
    const engine = await Engine.load(BABYLLAMA, {
      dtype: "f16",
      compute: "f16",
      cacheDir: join(root, "cache"),
      threads: 1,
    });
    try {
      const prompts: string[] = JSON.parse(
        await Deno.readTextFile(join(BABYLLAMA, "reference", "prompts.json")),
      );
      for (let i = 0; i < prompts.length; i++) {
        const lines = (await Deno.readTextFile(join(BABYLLAMA, "reference", `prompt${i}.ids`)))
          .split("\n");
        const read = (tag: string) =>
          lines.find((l) => l.startsWith(tag))!.slice(tag.length).trim().split(/\s+/).map(Number);
        const prompt = read("PROMPT_IDS:");
        const gen = read("GEN_IDS:");
        // Float16 weights alone move prompt 4 off llama2.c's path after 39 tokens (measured with
        // a float32 graph of the same weights too); 32 tokens hold for all five.
        const r = await engine.generate({ inputIds: [prompt] }, { maxNewTokens: 32 });
        assert.deepEqual(r.completions[0].tokens, gen.slice(0, 32), `prompt ${i}`);
        const bytes = await Deno.readFile(join(BABYLLAMA, "reference", `prompt${i}.logits.f32`));
        const want = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
        const all = [...prompt, ...gen.slice(0, 32)];
        const got = (await engine.forward([all])).logits.data as Float32Array;
        let m = 0;
        for (let k = 0; k < got.length; k++) m = Math.max(m, Math.abs(got[k] - want[k]));
        // Measured at most 0.028 (logits up to about 20); float32 weights give 0.01.
        assert.ok(m < 0.05, `prompt ${i}: logits differ by up to ${m}`);
      }
    } finally {
      await engine.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

if (!existsSync(join(BABYLLAMA, "reference", "prompts.json"))) {
  console.log(`babyllama float16 check skipped: ${BABYLLAMA} is absent (the ../shared checkout)`);
}
