import assert from "node:assert/strict";
import { GraphBuilder } from "../onnx/builder.ts";
import type { LazyData } from "../onnx/ir.ts";
import { pairedLinearWeights, readOnce, transposeInto } from "./graph_quant.ts";
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

Deno.test("pairedLinearWeights stores gate and up transposed side by side, reads streamed rows, and refuses what it does not pair", () => {
  const rows = [5, 3];
  const cols = 2;
  const hf = rows.map((r, k) => Float32Array.from({ length: r * cols }, (_, i) => 10 * k + i));
  // The second weight streamed: read whole or by row slices.
  const reader = Object.assign(() => hf[1].slice(), {
    rows: (a: number, z: number) => hf[1].slice(a * cols, z * cols),
  });
  const f32 = { dtype: "f32", blockSize: 128, accuracyLevel: 4 } as const;
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [1, cols]);
  const pair = pairedLinearWeights(b, "gu", { shape: [5, cols], data: hf[0] }, {
    shape: [3, cols],
    data: reader,
  }, f32)!;
  const [g, u] = [pair[0](x), pair[1](x)];
  const graph = b.graph();
  const init = graph.initializers.find((t) => t.name === "gu")!;
  assert.deepEqual(init.shape, [cols, 8]);
  const t = (init.data as LazyData).read() as Float32Array;
  // Row c of the table: column c of gate (5 outputs), then column c of up (3 outputs).
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < 5; r++) assert.equal(t[c * 8 + r], hf[0][r * cols + c]);
    for (let r = 0; r < 3; r++) assert.equal(t[c * 8 + 5 + r], hf[1][r * cols + c]);
  }
  // One product and one split feed both halves.
  assert.equal(graph.nodes.filter((n) => n.opType === "MatMul").length, 1);
  const split = graph.nodes.find((n) => n.opType === "Split")!;
  assert.deepEqual(split.outputs, [g, u]);
  const sizes = graph.initializers.find((t) => t.name === split.inputs[1])!;
  assert.deepEqual(Array.from(sizes.data as BigInt64Array, Number), [5, 3]);
  const y = b.input("y", "float32", [1, cols]);
  assert.throws(() => pair[0](y), (e: Error & { code?: string }) => e.code === "E_GRAPH");
  // Not paired: other formats, float64 graphs, a weight kept [out, in], different input sizes.
  const w = (r: number, c: number) => ({ shape: [r, c], data: new Float32Array(r * c) });
  const b2 = new GraphBuilder();
  for (const dtype of ["int4", "int8", "f16", "bf16"] as const) {
    assert.equal(pairedLinearWeights(b2, "a", w(8, 4), w(8, 4), { ...f32, dtype }), undefined);
  }
  const f64 = new GraphBuilder({ floatType: "float64" });
  assert.equal(pairedLinearWeights(f64, "a", w(8, 4), w(8, 4), f32), undefined);
  assert.equal(pairedLinearWeights(b2, "a", w(4, 4), w(8, 4), f32), undefined);
  assert.equal(pairedLinearWeights(b2, "a", w(8, 4), w(8, 2), f32), undefined);
  assert.equal(b2.graph().initializers.length, 0);
});

Deno.test("transposeInto reads a streamed weight in slices of whole rows and writes each value once, at its column of a wider table", () => {
  const rows = 7, cols = 3, stride = 10, offset = 2;
  const hf = Float32Array.from({ length: rows * cols }, (_, i) => i + 1);
  const reads: [number, number][] = [];
  const reader = Object.assign(() => {
    throw new Error("a streamed weight is read by rows, never whole");
  }, {
    rows: (a: number, z: number) => {
      reads.push([a, z]);
      return hf.slice(a * cols, z * cols);
    },
  });
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
