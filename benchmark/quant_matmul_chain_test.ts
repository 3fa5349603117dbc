import assert from "node:assert/strict";
import { chainModel, parseForm, timeChain } from "./quant_matmul_chain.ts";

const shape = { layers: 2, hidden: 64, intermediate: 128, kv: 32 };

Deno.test("quant_matmul_chain: each form's stored weight bytes follow its format", () => {
  // Per layer: q, o (64×64), k, v (64→32), gate, up (64→128), down (128→64) = 32768 weights.
  const weights = 2 * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 128);
  const f32 = chainModel(shape, 4, parseForm("f32", 4, false)).weightBytes;
  assert.equal(f32, weights * 4);
  // int4, blocks of 32: half a byte per weight and one float32 scale per 32 weights.
  const int4 = chainModel(shape, 4, parseForm("int4:32", 4, false)).weightBytes;
  assert.equal(int4, weights / 2 + (weights / 32) * 4);
  // Fusing q/k/v and gate/up concatenates output rows: the same bytes.
  assert.equal(chainModel(shape, 4, parseForm("int4:32", 4, true)).weightBytes, int4);
  // int4 names the engine's default block, 128: each row of 64 inputs pads to one block of 128
  // (64 bytes and a scale); per layer 448 such rows (q, o, k, v, gate, up) and down's 64 rows.
  assert.equal(chainModel(shape, 4, parseForm("int4", 4, false)).weightBytes, 2 * 512 * (64 + 4));
  // qgemm: a byte per weight and a float32 scale per output column.
  const cols = 2 * (64 + 32 + 32 + 128 + 128 + 64 + 64);
  assert.equal(chainModel(shape, 4, parseForm("qgemm", 4, false)).weightBytes, weights + cols * 4);
  // +zp: one zero point per block, two per byte at int4. At int4:32 a row of 64 inputs has two
  // blocks (one byte), down's rows of 128 four (two bytes); at int8 (blocks of 128) every row
  // has one block, one byte.
  const rows = 2 * 512;
  assert.equal(
    chainModel(shape, 4, parseForm("int4:32+zp", 4, false)).weightBytes,
    int4 + rows + 2 * 64,
  );
  assert.equal(
    chainModel(shape, 4, parseForm("int8+zp", 4, false)).weightBytes,
    chainModel(shape, 4, parseForm("int8", 4, false)).weightBytes + rows,
  );
  assert.throws(() => parseForm("f16", 4, false), /use int4\[:32\], int8\[:32\], qgemm or f32/);
});

Deno.test("quant_matmul_chain: every form runs in onnxruntime", async () => {
  for (const name of ["int4", "int4:32", "int8", "int4+zp", "qgemm", "f32"]) {
    for (const fused of [false, true]) {
      const r = await timeChain(shape, 3, parseForm(name, 4, fused), { runs: 1 });
      assert.ok(r.medianMs > 0 && r.minMs <= r.medianMs, name);
    }
  }
});
