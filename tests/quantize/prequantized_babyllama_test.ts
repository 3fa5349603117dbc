/**
 * The pre-quantized loader on a real trained checkpoint: babyllama-105 (../shared/models) packed
 * as GPTQ and AWQ from its float32 weights, loaded by the engine, against llama2.c's own greedy
 * tokens for the reference prompts (skipped with a message where ../shared is absent).
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../../core/model/engine.ts";
import { readModel } from "../../core/onnx/deserialize.ts";
import { packedModel, type Packing } from "../../core/model/testing/prequant_pack.ts";
import type { WeightFormat } from "../../core/model/quantize.ts";

const BABYLLAMA = new URL("../../../shared/models/babyllama-105", import.meta.url).pathname;
const present = existsSync(join(BABYLLAMA, "reference", "prompts.json"));

async function llama2cRuns() {
  const prompts: string[] = JSON.parse(
    await Deno.readTextFile(join(BABYLLAMA, "reference", "prompts.json")),
  );
  return await Promise.all(prompts.map(async (_, i) => {
    const lines = (await Deno.readTextFile(join(BABYLLAMA, "reference", `prompt${i}.ids`)))
      .split("\n");
    const read = (tag: string) =>
      lines.find((l) => l.startsWith(tag))!.slice(tag.length).trim().split(/\s+/).map(Number);
    return { prompt: read("PROMPT_IDS:"), gen: read("GEN_IDS:") };
  }));
}

async function logitsOf(engine: Engine, ids: number[]): Promise<Float32Array> {
  return (await engine.forward([ids])).logits.data as Float32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

Deno.test({
  name:
    "GPTQ 8-bit babyllama-105: llama2.c's 32 greedy tokens and logits on every reference prompt",
  ignore: !present,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "dramatis_prequant_baby_" });
    try {
      const dirs = await packedModel(root, BABYLLAMA, { method: "gptq", bits: 8, groupSize: 32 });
      // f32: the dequantized levels; no dtype: the checkpoint's own levels through MatMulNBits
      // (int8:32 with zero points, activations quantized to int8 in the kernel).
      for (const dtype of ["f32", undefined]) {
        const engine = await Engine.load(dirs.packed, {
          dtype,
          cacheDir: join(root, "cache"),
          threads: 1,
        });
        try {
          if (!dtype) {
            // Every linear layer on the checkpoint's levels: MatMulNBits with zero points.
            const graph = await readModel(engine.graphPath);
            const native = graph.graph.nodes.filter((n) =>
              n.opType === "MatMulNBits" && n.inputs[3]
            );
            assert.equal(native.length, 7 * engine.config.numLayers);
          }
          for (const [i, r] of (await llama2cRuns()).entries()) {
            const out = await engine.generate({ inputIds: [r.prompt] }, { maxNewTokens: 32 });
            assert.deepEqual(out.completions[0].tokens, r.gen.slice(0, 32), `${dtype} prompt ${i}`);
            const bytes = await Deno.readFile(
              join(BABYLLAMA, "reference", `prompt${i}.logits.f32`),
            );
            const want = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
            const got = await logitsOf(engine, [...r.prompt, ...r.gen.slice(0, 32)]);
            const m = maxAbsDiff(got, want.subarray(0, got.length));
            // Measured (logits up to about 20): 0.13–0.14 at f32, 8-bit levels in groups of 32;
            // 0.27–0.40 on the levels, with the activations quantized to int8 as well.
            assert.ok(
              m < (dtype ? 0.25 : 0.6),
              `${dtype ?? "int8:32"} prompt ${i}: logits differ from llama2.c's by ${m}`,
            );
          }
        } finally {
          await engine.close();
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "4-bit GPTQ (act-order) and AWQ babyllama-105 on their own levels: the logits of the weights those stand for",
  ignore: !present,
  async fn() {
    const runs = await llama2cRuns();
    const packings: Packing[] = [
      { method: "gptq", bits: 4, groupSize: 32, actOrder: true },
      { method: "awq", bits: 4, groupSize: 32 },
    ];
    for (const p of packings) {
      const root = await Deno.makeTempDir({ prefix: "dramatis_prequant_baby_" });
      const engines: Engine[] = [];
      try {
        // The reference holds the levels' weights and the embedding as int4 stores it.
        const dirs = await packedModel(root, BABYLLAMA, { ...p, tables: { dtype: "int4" } });
        const load = async (dir: string, dtype: WeightFormat) => {
          const e = await Engine.load(dir, { dtype, cacheDir: join(root, "cache"), threads: 1 });
          engines.push(e);
          return e;
        };
        // The packed layers dequantized (f32, the embedding too is the reference's), and run on
        // their own levels and zeros by MatMulNBits with float32 compute (int4, accuracy level 0).
        const float = await load(dirs.reference, { dtype: "f32" });
        const native = await load(dirs.packed, { dtype: "int4", accuracyLevel: 0 });
        for (const r of runs) {
          const ids = [...r.prompt, ...r.gen.slice(0, 32)];
          const want = await logitsOf(float, ids);
          const m = maxAbsDiff(await logitsOf(native, ids), want);
          // Measured 1.3e-5 – 2.3e-5 (float32 sums in another order; logits up to about 20).
          assert.ok(m < 1e-4, `${JSON.stringify(p)}: native logits differ by ${m}`);
        }
      } finally {
        for (const e of engines) await e.close();
        await Deno.remove(root, { recursive: true });
      }
    }
  },
});

if (!present) {
  console.log(
    `babyllama pre-quantized check skipped: ${BABYLLAMA} is absent (the ../shared checkout)`,
  );
}
