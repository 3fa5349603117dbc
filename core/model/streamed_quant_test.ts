// Streamed quantization: large tables are read and quantized a slice of rows at a time.
import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../errors.ts";
import { Prng } from "../util/prng.ts";
import type { DecoderConfig } from "./config.ts";
import { quantizeWeight } from "./graph_quant.ts";
import { quantizeMatrix } from "./quantize.ts";
import { SafetensorsFile, writeSafetensors } from "./safetensors.ts";
import { createTinyModel, seededWeightSource } from "./tiny.ts";
import { streamWeights, weightData } from "./weights.ts";
import { rowReader } from "./testing/row_reader.ts";

function values(n: number, seed: number): Float32Array {
  const r = new Prng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

Deno.test("quantizeWeight() quantizes a row reader slice by slice, as quantizeMatrix does the whole", () => {
  const rows = 37, cols = 64;
  const all = values(rows * cols, 1);
  const { reader, reads: asked } = rowReader(all, cols);
  for (const [bits, block] of [[4, 32], [8, 32], [4, 64]] as const) {
    asked.length = 0;
    const got = quantizeWeight(reader, rows, cols, bits, block, 5 * cols);
    const want = quantizeMatrix(all, rows, cols, bits, block);
    assert.deepEqual(got.packed, want.packed);
    assert.deepEqual(got.scales, want.scales);
    assert.equal(got.blocksPerRow, want.blocksPerRow);
    // Slices of at most 5 rows, in order, covering every row once.
    assert.deepEqual(asked[0], [0, 5]);
    assert.deepEqual(asked.at(-1), [35, 37]);
    assert.ok(asked.every(([a, b], i) => b - a <= 5 && (i === 0 || asked[i - 1][1] === a)));
  }
});

Deno.test("SafetensorsFile.readF32RowsSync() reads row slices of F32, F16 and BF16 tensors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "t.safetensors");
    const f32 = values(6 * 4, 2);
    const half = new Uint16Array(24).map((_, i) => 0x3c00 + i * 16); // F16 / BF16 bit patterns
    await writeSafetensors(path, {
      a: { dtype: "F32", shape: [6, 4], data: f32 },
      b: { dtype: "F16", shape: [6, 4], data: half },
      c: { dtype: "BF16", shape: [6, 2, 2], data: half },
    });
    const f = await SafetensorsFile.open(path);
    try {
      for (const name of ["a", "b", "c"]) {
        const whole = f.readF32Sync(name);
        assert.deepEqual(f.readF32RowsSync(name, 0, 6), whole);
        assert.deepEqual(f.readF32RowsSync(name, 2, 5), whole.slice(8, 20));
        assert.equal(f.readF32RowsSync(name, 3, 3).length, 0);
      }
      assert.throws(() => f.readF32RowsSync("a", 4, 7), (e) => errorCode(e) === "E_WEIGHTS");
    } finally {
      f.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("streamed weights and seeded weights read row slices equal to their whole values", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { config } = await createTinyModel(join(dir, "m"), {
      preset: "tiny-qwen2",
      seed: 3,
      dtype: "BF16",
    });
    const { weights, close } = await streamWeights(join(dir, "m"), config);
    try {
      const embed = weights.get("model.embed_tokens.weight")!;
      const read = weightData(embed);
      assert.equal(typeof read, "function");
      const rows = (read as { rows?: (a: number, b: number) => Float32Array }).rows!;
      const d = config.hiddenSize;
      assert.deepEqual(rows(10, 20), embed.data.slice(10 * d, 20 * d));
    } finally {
      close();
    }
    const seeded = await seededWeightSource(5).open(config as DecoderConfig);
    const t = seeded.weights.get("model.layers.0.mlp.down_proj.weight")!;
    const whole = t.data;
    const cols = t.shape[1];
    // In order (continuing), then out of order (restarting).
    assert.deepEqual(t.readRows!(0, 3), whole.slice(0, 3 * cols));
    assert.deepEqual(t.readRows!(3, 7), whole.slice(3 * cols, 7 * cols));
    assert.deepEqual(t.readRows!(1, 2), whole.slice(cols, 2 * cols));
    assert.deepEqual(t.readRows!(5, t.shape[0]), whole.slice(5 * cols));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
