import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { makeModel } from "../onnx/ir.ts";
import { serializeModel } from "../onnx/serialize.ts";
import { Prng } from "../util/prng.ts";
import { rowReader } from "./testing/row_reader.ts";
import { GraphBuilder } from "../onnx/builder.ts";
import type { LazyData } from "../onnx/ir.ts";
import { blockedLinearWeights, blockInto, readOnce, transposeInto } from "./graph_quant.ts";
import { packZeroPoints, type QuantizedMatrix, quantizeMatrix } from "./quantize.ts";

Deno.test("readOnce reads a matrix once for its parts, lets it go after the packed values and scales, and never keeps it for zero points alone", () => {
  let reads = 0;
  const matrix = (): QuantizedMatrix => {
    reads++;
    const q = quantizeMatrix(
      Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i)),
      4,
      64,
      4,
      32,
    );
    return { ...q, zeros: Uint8Array.from({ length: 8 }, (_, i) => i) };
  };
  const want = matrix();
  reads = 0;
  // The zero points are read last (inline in a graph, after the weights file): the matrix is let
  // go once the packed values and scales are read, its zero points kept apart.
  const a = readOnce("w", matrix, 4, 64, 4, 32, true);
  assert.deepEqual(a.packed.read(), want.packed);
  assert.deepEqual(a.scales.read(), want.scales);
  assert.equal(reads, 1);
  a.packed.read(); // let go: read again
  assert.equal(reads, 2);
  assert.deepEqual(a.zeros.read(), packZeroPoints(want));
  assert.equal(reads, 2);
  // Zero points alone (another graph over weights already written): packed from a read that is
  // not kept, so packed values read afterwards read the matrix again.
  reads = 0;
  const b = readOnce("w", matrix, 4, 64, 4, 32, true);
  assert.deepEqual(b.zeros.read(), packZeroPoints(want));
  assert.equal(reads, 1);
  b.packed.read();
  b.scales.read();
  assert.equal(reads, 2);
  assert.equal(b.zeros.byteLength, 4 * 1);
  assert.equal(b.packed.byteLength, 4 * 2 * 16);
});

/** `got` (rows × out) equals x·Wᵀ summed in float64, x rows × cols, W HF `[out, cols]`. */
function assertProduct(
  got: Float32Array,
  x: Float32Array,
  w: Float32Array,
  cols: number,
  label: string,
): void {
  const rows = x.length / cols, out = w.length / cols;
  assert.equal(got.length, rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let want = 0;
      for (let c = 0; c < cols; c++) want += x[r * cols + c] * w[o * cols + c];
      assert.ok(Math.abs(got[r * out + o] - want) < 1e-5, `${label} row ${r} feature ${o}`);
    }
  }
}

Deno.test("blockedLinearWeights stores weights in blocks of 16 output features, reads streamed rows, computes x·Wᵀ for every leading shape, and refuses what it does not block", async () => {
  const cols = 5;
  const rows = [32, 16];
  const rng = new Prng(5);
  const hf = rows.map((r) => Float32Array.from({ length: r * cols }, () => rng.normal()));
  // The second weight streamed: read by row slices only.
  const { reader } = rowReader(hf[1], cols);
  const f32 = { dtype: "f32", blockSize: 128, accuracyLevel: 4 } as const;
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["b", "s", cols]);
  const pair = blockedLinearWeights(b, "gu_b16", [{ shape: [32, cols], data: hf[0] }, {
    shape: [16, cols],
    data: reader,
  }], f32)!;
  const [g, u] = [pair[0](x), pair[1](x)];
  b.output("g", "float32", ["b", "s", 32], g);
  b.output("u", "float32", ["b", "s", 16], u);
  const graph = b.graph();
  const init = graph.initializers.find((t) => t.name === "gu_b16")!;
  assert.deepEqual(init.shape, [3, cols, 16]);
  const t = (init.data as LazyData).read() as Float32Array;
  // Block j, input c, lane l: output feature 16·j + l (gate's 32, then up's 16) at input c.
  for (let j = 0; j < 3; j++) {
    for (let c = 0; c < cols; c++) {
      for (let l = 0; l < 16; l++) {
        const f = 16 * j + l;
        const want = f < 32 ? hf[0][f * cols + c] : hf[1][(f - 32) * cols + c];
        assert.equal(t[(j * cols + c) * 16 + l], want, `block ${j} input ${c} lane ${l}`);
      }
    }
  }
  // One product feeds both halves.
  assert.equal(graph.nodes.filter((n) => n.opType === "MatMul").length, 1);
  const y = b.input("y", "float32", [1, cols]);
  assert.throws(() => pair[0](y), (e: Error & { code?: string }) => e.code === "E_GRAPH");
  // x·Wᵀ against float64 sums, for one row and for a batch of several rows.
  const s = await ort.InferenceSession.create(serializeModel(makeModel(graph)).model);
  for (const [B, S] of [[1, 1], [2, 3]]) {
    const xs = Float32Array.from({ length: B * S * cols }, () => rng.normal());
    const out = await s.run({ x: new ort.Tensor("float32", xs, [B, S, cols]) });
    for (const [name, w, n] of [["g", hf[0], 32], ["u", hf[1], 16]] as const) {
      assert.deepEqual(out[name].dims, [B, S, n]);
      assertProduct(out[name].data as Float32Array, xs, w, cols, name);
    }
  }
  await s.release();
  // One weight: one product and no Split, the same x·Wᵀ.
  const b1 = new GraphBuilder();
  const x1 = b1.input("x", "float32", ["b", "s", cols]);
  const [one] = blockedLinearWeights(b1, "w_b16", [{ shape: [32, cols], data: hf[0] }], f32)!;
  b1.output("y", "float32", ["b", "s", 32], one(x1));
  assert.ok(!b1.graph().nodes.some((n) => n.opType === "Split"));
  const s1 = await ort.InferenceSession.create(serializeModel(makeModel(b1.graph())).model);
  const xs = Float32Array.from({ length: 2 * 3 * cols }, () => rng.normal());
  const y1 = (await s1.run({ x: new ort.Tensor("float32", xs, [2, 3, cols]) })).y;
  assert.deepEqual(y1.dims, [2, 3, 32]);
  assertProduct(y1.data as Float32Array, xs, hf[0], cols, "y");
  await s1.release();
  // Not blocked: other formats, float64 graphs, sizes 16 does not divide, different input sizes.
  const w = (r: number, c: number) => ({ shape: [r, c], data: new Float32Array(r * c) });
  const b2 = new GraphBuilder();
  for (const dtype of ["int4", "int8", "f16", "bf16"] as const) {
    assert.equal(blockedLinearWeights(b2, "a", [w(16, 4)], { ...f32, dtype }), undefined);
  }
  const f64 = new GraphBuilder({ floatType: "float64" });
  assert.equal(blockedLinearWeights(f64, "a", [w(16, 4)], f32), undefined);
  assert.equal(blockedLinearWeights(b2, "a", [w(24, 4)], f32), undefined);
  assert.equal(blockedLinearWeights(b2, "a", [w(16, 4), w(8, 4)], f32), undefined);
  assert.equal(blockedLinearWeights(b2, "a", [w(16, 4), w(16, 2)], f32), undefined);
  assert.equal(b2.graph().initializers.length, 0);
});

Deno.test("transposeInto reads a streamed weight in slices of whole rows and writes each value once, at its column of a wider table", () => {
  const rows = 7, cols = 3, stride = 10, offset = 2;
  const hf = Float32Array.from({ length: rows * cols }, (_, i) => i + 1);
  const { reader, reads } = rowReader(hf, cols);
  const check = (out: Float32Array) => {
    for (let c = 0; c < cols; c++) {
      for (let j = 0; j < stride; j++) {
        const r = j - offset;
        const want = r >= 0 && r < rows ? hf[r * cols + c] : 0;
        assert.equal(out[c * stride + j], want, `table row ${c}, column ${j}`);
      }
    }
  };
  // 6 values a slice = 2 rows: four slices, the last one row.
  const out = new Float32Array(cols * stride);
  transposeInto(out, reader, rows, cols, stride, offset, 6);
  assert.deepEqual(reads, [[0, 2], [2, 4], [4, 6], [6, 7]]);
  check(out);
  // A slice smaller than a row still reads whole rows, one at a time.
  reads.length = 0;
  const one = new Float32Array(cols * stride);
  transposeInto(one, reader, rows, cols, stride, offset, 2);
  assert.deepEqual(reads, Array.from({ length: rows }, (_, r) => [r, r + 1]));
  check(one);
  // A plain array is read whole, with the same result.
  const whole = new Float32Array(cols * stride);
  transposeInto(whole, hf, rows, cols, stride, offset, 6);
  check(whole);
});

Deno.test("blockInto writes a streamed weight read in small slices as it writes the whole array, from any first feature", () => {
  const rows = 32, cols = 5;
  const hf = Float32Array.from({ length: rows * cols }, (_, i) => i + 1);
  const { reader, reads } = rowReader(hf, cols);
  // 12 values a slice = 2 rows: 16 slices. Written after 16 features of another weight.
  const sliced = new Float32Array((16 + rows) * cols);
  blockInto(sliced, reader, rows, cols, 16, 12);
  assert.equal(reads.length, 16);
  assert.deepEqual(reads.at(-1), [30, 32]);
  const whole = new Float32Array((16 + rows) * cols);
  blockInto(whole, hf, rows, cols, 16);
  assert.deepEqual(sliced, whole);
  // Feature 16 + r of input c sits in block (16 + r) / 16, lane r % 16; the first block is left.
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const f = 16 + r;
      assert.equal(whole[(Math.floor(f / 16) * cols + c) * 16 + (f % 16)], hf[r * cols + c]);
    }
  }
  assert.ok(whole.subarray(0, 16 * cols).every((v) => v === 0));
});
