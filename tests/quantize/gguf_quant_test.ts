/**
 * GGUF q8_0 / q4_0 export: the block encodings decode (by the GGML formulas, written here
 * independently) to within half a quantization step of the weights, and the real babyllama-105
 * checkpoint exported at q8_0 and q4_0 loads in llama.cpp (node-llama-cpp) and gives the same 32
 * greedy tokens as this project's engine at int8 / int4:32 (Q4_0's blocks of 32) and as the
 * llama2.c oracle (skipped with a message where ../shared is absent). The engine's default int4,
 * blocks of 128, is another quantization: its greedy tokens follow llama2.c's for the first 26.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { llamaCppGreedy } from "../llamacpp.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { errorCode } from "../../core/errors.ts";
import { Engine } from "../../core/model/engine.ts";
import { GGUF_TENSOR_TYPES, writeGguf } from "../../core/model/gguf.ts";
import { loadWeights } from "../../core/model/weights.ts";
import { float16BitsToFloat32, float32ToFloat16 } from "../../core/onnx/float16.ts";
import { Prng } from "../../core/util/prng.ts";

const BABYLLAMA = new URL("../../../shared/models/babyllama-105/", import.meta.url);

/** Squared error of one block of 32 under llama.cpp's reference Q4_0 rule (f16 scale `m / -8`). */
function q4_0ReferenceError(x: Float32Array): number {
  let m = 0;
  for (const v of x) if (Math.abs(v) > Math.abs(m)) m = v;
  const d = float16BitsToFloat32(float32ToFloat16([m / -8])[0]);
  let e = 0;
  for (const v of x) {
    const q = d === 0 ? 0 : Math.min(15, Math.trunc(v / d + 8.5)) - 8;
    e += (v - q * d) ** 2;
  }
  return e;
}

Deno.test("q8_0 blocks decode to within half a step, q4_0 blocks no worse than llama.cpp's reference rule (GGML formulas)", () => {
  const r = new Prng(4);
  const v = Float32Array.from({ length: 32 * 40 }, () => r.normal() * 0.3);
  v[5] = 0; // a zero block is not needed, but exact zeros must stay zero in q8_0
  const q8 = GGUF_TENSOR_TYPES.q8_0.encode(v);
  const q4 = GGUF_TENSOR_TYPES.q4_0.encode(v);
  assert.equal(q8.length, 40 * 34);
  assert.equal(q4.length, 40 * 18);
  const d8 = new DataView(q8.buffer), d4 = new DataView(q4.buffer);
  let ours = 0;
  let reference = 0;
  for (let b = 0; b < 40; b++) {
    let e4 = 0;
    const s8 = float16BitsToFloat32(d8.getUint16(b * 34, true));
    const s4 = float16BitsToFloat32(d4.getUint16(b * 18, true));
    for (let j = 0; j < 32; j++) {
      const x = v[b * 32 + j];
      const y8 = new Int8Array(q8.buffer, b * 34 + 2, 32)[j] * s8;
      const byte = q4[b * 18 + 2 + (j % 16)];
      const y4 = ((j < 16 ? byte & 15 : byte >> 4) - 8) * s4;
      // The f16 rounding of the scale adds at most 2^-11 relative on top of half a step.
      assert.ok(Math.abs(y8 - x) <= Math.abs(s8) * 0.5 + Math.abs(x) * 1e-3, `q8 ${b}:${j}`);
      e4 += (y4 - x) ** 2;
    }
    // The engine's int4 rule, then the scale rounded to f16 (which the reference rounds too).
    const ref = q4_0ReferenceError(v.subarray(b * 32, b * 32 + 32));
    assert.ok(e4 <= ref * 1.01, `q4 block ${b}: ${e4} against the reference rule's ${ref}`);
    ours += e4;
    reference += ref;
  }
  // The searched scales cut the squared error by about a tenth on Gaussian values.
  assert.ok(ours < 0.95 * reference, `q4_0 error ${ours} against ${reference}`);
  assert.equal(new Int8Array(q8.buffer, 2, 32)[5], 0);
});

Deno.test("a NaN weight is E_WEIGHTS naming the GGUF tensor, and no file is left", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_gguf_nan_" });
  try {
    const model = join(root, "model");
    await createTinyModel(model, { preset: "tiny-llama", seed: 1 });
    const config = await readDecoderConfig(model);
    const weights = await loadWeights(model, config);
    const tokenizer = JSON.parse(await Deno.readTextFile(join(model, "tokenizer.json")));
    weights.get("model.layers.0.mlp.up_proj.weight")!.data[3] = NaN;
    const path = join(root, "nan.gguf");
    await assert.rejects(
      () => writeGguf(path, config, weights, { tokenizer, dtype: "q4_0" }),
      (e: unknown) => errorCode(e) === "E_WEIGHTS" && /blk\.0\.ffn_up\.weight/.test(String(e)),
    );
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["model"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("babyllama-105 as GGUF q8_0 / q4_0 in llama.cpp: 32 greedy tokens equal ours at int8 / int4:32 and llama2.c's", async () => {
  try {
    await Deno.stat(new URL("config.json", BABYLLAMA));
  } catch {
    console.log("skipped: ../shared/models/babyllama-105 is absent");
    return;
  }
  const dir = BABYLLAMA.pathname;
  const root = await Deno.makeTempDir({ prefix: "dramatis_gguf_q_" });
  try {
    const config = await readDecoderConfig(dir);
    const weights = await loadWeights(dir, config);
    const tokenizer = JSON.parse(await Deno.readTextFile(join(dir, "tokenizer.json")));
    const lines = (await Deno.readTextFile(new URL("reference/prompt0.ids", BABYLLAMA)))
      .split("\n");
    const prompt = lines[0].replace("PROMPT_IDS:", "").trim().split(/\s+/).map(Number);
    const oracle = lines[1].replace("GEN_IDS:", "").trim().split(/\s+/).map(Number).slice(0, 32);
    const sizes: Record<string, number> = {};
    for (const [gguf, ours] of [["f32", "f32"], ["q8_0", "int8"], ["q4_0", "int4:32"]] as const) {
      const path = join(root, `baby-${gguf}.gguf`);
      await writeGguf(path, config, weights, { tokenizer, dtype: gguf });
      sizes[gguf] = (await Deno.stat(path)).size;
      const cpp = await llamaCppGreedy(path, prompt, 32);
      const engine = await Engine.load(dir, { cacheDir: join(root, "g"), threads: 1, dtype: ours });
      try {
        const r = await engine.generate({ inputIds: [prompt] }, {
          maxNewTokens: 32,
          eosTokenIds: [],
        });
        assert.deepEqual(r.completions[0].tokens, cpp, `${ours} vs llama.cpp ${gguf}`);
      } finally {
        await engine.close();
      }
      assert.deepEqual(cpp, oracle, `llama.cpp ${gguf} vs llama2.c`);
    }
    assert.ok(sizes.q8_0 < 0.3 * sizes.f32 && sizes.q4_0 < 0.6 * sizes.q8_0, JSON.stringify(sizes));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
