import assert from "node:assert/strict";
import { readOnce } from "./graph_quant.ts";
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
