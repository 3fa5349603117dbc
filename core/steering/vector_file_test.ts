import assert from "node:assert/strict";
import { decodeVectorFile, encodeVectorFile, LAYER_CONVENTION } from "./vector_file.ts";

const meta = {
  model: "tiny",
  trait: "optimistic",
  type: "response_avg",
  n_pos: 7,
  n_neg: 9,
  threshold: 50,
};

Deno.test("encodeVectorFile() writes a safetensors layout that decodes back", () => {
  const v = { rows: 3, cols: 2, data: new Float32Array([1, -2, 0.5, 4, 5, 6]) };
  const bytes = encodeVectorFile(v, meta);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header.vector, { dtype: "F32", shape: [3, 2], data_offsets: [0, 24] });
  assert.equal(header.__metadata__.n_pos, "7");
  assert.equal(header.__metadata__.layer_convention, LAYER_CONVENTION);
  assert.equal(bytes.length, 8 + n + 24);
  const back = decodeVectorFile(bytes);
  assert.deepEqual([...back.vector.data], [1, -2, 0.5, 4, 5, 6]);
  assert.equal(back.metadata.trait, "optimistic");
});

Deno.test("decodeVectorFile() rejects files that are not one F32 matrix", () => {
  assert.throws(() => decodeVectorFile(new Uint8Array(3)), /only 3 bytes/);
  const bytes = encodeVectorFile({ rows: 1, cols: 1, data: new Float32Array([1]) }, meta);
  assert.throws(() => decodeVectorFile(bytes.subarray(0, bytes.length - 2)), /data offsets/);
});
