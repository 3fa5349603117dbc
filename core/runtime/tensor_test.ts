import assert from "node:assert/strict";
import { numel, tensor, transferList } from "./tensor.ts";

Deno.test("tensor() checks dtype, dims and length", () => {
  assert.deepEqual(tensor("float32", [2, 0]).data.length, 0);
  assert.equal(tensor("int64", [2, 3]).data.length, 6);
  assert.throws(
    () => tensor("float32", [2], new Float32Array(3)),
    /3 elements but dims \[2\] need 2/,
  );
  // deno-lint-ignore no-explicit-any
  assert.throws(() => tensor("int64", [1], new Float32Array(1) as any), /pass a BigInt64Array/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => tensor("complex" as any, [1]), /dtype is "complex"/);
  assert.throws(() => tensor("float32", [-1]), RangeError);
  assert.equal(numel([2, 3, 4]), 24);
  assert.equal(numel([]), 1);
});

Deno.test("transferList() lists each buffer once and skips empty ones", () => {
  const buf = new Float32Array(8);
  const a = tensor("float32", [4], buf.subarray(0, 4));
  const b = tensor("float32", [4], buf.subarray(4));
  const e = tensor("float32", [0]);
  assert.deepEqual(transferList([a, b, e]), [buf.buffer]);
});
