/**
 * The GGUF export runs in llama.cpp (node-llama-cpp's prebuilt CPU build) and gives the same
 * greedy tokens as this project's engine on the same weights: on the real babyllama-105
 * checkpoint (whose llama2.c oracle output is in ../shared; skipped with a message where it is
 * absent) at f32, and f16 stays on the same path; tiny Qwen2/Qwen3/Llama exports load too.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { llamaCppGreedy } from "../llamacpp.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { Engine } from "../../core/model/engine.ts";
import { type GgufDType, writeGguf } from "../../core/model/gguf.ts";
import { createTinyModel, type TinyPreset } from "../../core/model/tiny.ts";
import { loadWeights } from "../../core/model/weights.ts";

const BABYLLAMA = new URL("../../../shared/models/babyllama-105/", import.meta.url);

async function exportGguf(dir: string, out: string, dtype: GgufDType) {
  const config = await readDecoderConfig(dir);
  const weights = await loadWeights(dir, config);
  const tokenizer = JSON.parse(await Deno.readTextFile(join(dir, "tokenizer.json")));
  await writeGguf(out, config, weights, { tokenizer, dtype });
}

async function oursGreedy(dir: string, cache: string, prompt: number[], n: number) {
  const engine = await Engine.load(dir, { cacheDir: cache, threads: 1 });
  try {
    const r = await engine.generate({ inputIds: [prompt] }, {
      maxNewTokens: n,
      eosTokenIds: [],
    });
    return r.completions[0].tokens;
  } finally {
    await engine.close();
  }
}

Deno.test("GGUF export of babyllama-105 in llama.cpp: greedy tokens equal ours and llama2.c's (f32), f16 agrees", async (t) => {
  try {
    await Deno.stat(new URL("config.json", BABYLLAMA));
  } catch {
    console.log(
      "skipped: ../shared/models/babyllama-105 is absent (the real checkpoint lives beside the checkout)",
    );
    return;
  }
  const dir = BABYLLAMA.pathname;
  const root = await Deno.makeTempDir({ prefix: "dramatis_gguf_" });
  try {
    const f32 = join(root, "baby-f32.gguf");
    const f16 = join(root, "baby-f16.gguf");
    await exportGguf(dir, f32, "f32");
    await exportGguf(dir, f16, "f16");
    for (const k of [0, 3]) {
      await t.step(`prompt ${k}`, async () => {
        const lines = (await Deno.readTextFile(new URL(`reference/prompt${k}.ids`, BABYLLAMA)))
          .split("\n");
        const prompt = lines[0].replace("PROMPT_IDS:", "").trim().split(/\s+/).map(Number);
        const oracle = lines[1].replace("GEN_IDS:", "").trim().split(/\s+/).map(Number);
        const n = Math.min(48, oracle.length);
        const cpp = await llamaCppGreedy(f32, prompt, n);
        const ours = await oursGreedy(dir, join(root, "graphs"), prompt, n);
        assert.deepEqual(cpp, ours);
        assert.deepEqual(cpp, oracle.slice(0, n));
        const half = await llamaCppGreedy(f16, prompt, 16);
        assert.deepEqual(half, oracle.slice(0, 16));
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

for (const preset of ["tiny-llama", "tiny-qwen2", "tiny-qwen3"] as TinyPreset[]) {
  Deno.test(`GGUF export of ${preset} loads in llama.cpp and starts with our greedy tokens`, async () => {
    const root = await Deno.makeTempDir({ prefix: "dramatis_gguf_tiny_" });
    try {
      const dir = join(root, "m");
      await createTinyModel(dir, { preset, seed: 11, numLayers: 2 });
      const path = join(root, "m.gguf");
      await exportGguf(dir, path, "f32");
      const prompt = [5, 9, 40, 17, 3, 88, 21, 60];
      const cpp = await llamaCppGreedy(path, prompt, 6);
      const ours = await oursGreedy(dir, join(root, "graphs"), prompt, 6);
      assert.deepEqual(cpp, ours);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}
