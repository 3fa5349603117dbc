import assert from "node:assert/strict";
import type { ResidualEdit } from "../contracts/steerer.ts";
import { checkEdits, emptyPast, positionIds, steeringFeeds } from "./decoder_io.ts";

const shape = { numLayers: 2, numKvHeads: 1, headDim: 2, hiddenSize: 2 };

function edit(over: Partial<ResidualEdit>): ResidualEdit {
  return {
    block: 0,
    type: "add",
    vector: new Float32Array([1, 2]),
    coefficient: 3,
    positions: "all",
    ...over,
  };
}

Deno.test("positionIds() is cumsum(mask) - 1 with padding set to 1", () => {
  // row 0: [pad, pad, a, b]; row 1: [a, b, c, d]
  const mask = new BigInt64Array([0n, 0n, 1n, 1n, 1n, 1n, 1n, 1n]);
  assert.deepEqual([...positionIds(mask, 2, 4, 4)], [1n, 1n, 0n, 1n, 0n, 1n, 2n, 3n]);
  assert.deepEqual([...positionIds(mask, 2, 4, 1)], [1n, 3n]);
});

Deno.test("emptyPast() makes zero-length caches for every block", () => {
  const p = emptyPast(shape, 3);
  assert.deepEqual(Object.keys(p).sort(), [
    "past_key_values.0.key",
    "past_key_values.0.value",
    "past_key_values.1.key",
    "past_key_values.1.value",
  ]);
  assert.deepEqual(p["past_key_values.0.key"].dims, [3, 1, 0, 2]);
});

Deno.test("steeringFeeds() applies the position modes in prefill and decode", () => {
  const edits = [
    edit({ positions: "all", coefficient: 1 }),
    edit({ positions: "prompt", coefficient: 2 }),
    edit({ positions: "response", coefficient: 4 }),
  ];
  // batch 2, seq 3, row 0 left-padded by one
  const valid = [0, 1, 1, 1, 1, 1];
  const pre = steeringFeeds(shape, edits, { batch: 2, seq: 3, phase: "prefill", valid });
  assert.deepEqual(pre["steer.0.vectors"].dims, [3, 2]);
  assert.deepEqual([...pre["steer.0.vectors"].data as Float32Array], [1, 2, 1, 2, 1, 2]);
  assert.deepEqual(pre["steer.0.scales"].dims, [2, 3, 3]);
  assert.deepEqual([...pre["steer.0.scales"].data as Float32Array], [
    0,
    0,
    0,
    /**/ 1,
    2,
    0,
    /**/ 1,
    2,
    4, // row 0: pad, prompt, last
    1,
    2,
    0,
    /**/ 1,
    2,
    0,
    /**/ 1,
    2,
    4, // row 1
  ]);
  // block 1 has no edits: one zero slot of each kind (no input is empty), which edits nothing
  assert.deepEqual(pre["steer.1.vectors"].dims, [1, 2]);
  assert.deepEqual(pre["steer.1.scales"].dims, [2, 3, 1]);
  assert.deepEqual(pre["ablate.1.mask"].dims, [2, 3, 1]);
  for (
    const name of ["steer.1.vectors", "steer.1.scales", "ablate.1.directions", "ablate.1.mask"]
  ) {
    assert.ok((pre[name].data as Float32Array).every((x) => x === 0), name);
  }
  const dec = steeringFeeds(shape, edits, { batch: 2, seq: 1, phase: "decode" });
  assert.deepEqual([...dec["steer.0.scales"].data as Float32Array], [1, 0, 4, 1, 0, 4]);
});

Deno.test("steeringFeeds() feeds unit ablation directions and a 0/1 mask", () => {
  const f = steeringFeeds(shape, [
    edit({ block: 1, type: "ablate", vector: new Float32Array([3, 4]), positions: "prompt" }),
  ], {
    batch: 1,
    seq: 2,
    phase: "prefill",
  });
  assert.deepEqual(
    [...f["ablate.1.directions"].data as Float32Array].map((x) => Math.round(x * 1e6) / 1e6),
    [0.6, 0.8],
  );
  assert.deepEqual([...f["ablate.1.mask"].data as Float32Array], [1, 1]);
  const d = steeringFeeds(shape, [
    edit({ block: 1, type: "ablate", vector: new Float32Array([3, 4]), positions: "prompt" }),
  ], {
    batch: 1,
    seq: 1,
    phase: "decode",
  });
  assert.deepEqual([...d["ablate.1.mask"].data as Float32Array], [0]);
});

Deno.test("checkEdits() names the bad field", () => {
  assert.throws(
    () => checkEdits([edit({ block: 2 })], shape),
    /edits\[0\]\.block is 2; pass a block index in 0\.\.1/,
  );
  assert.throws(
    () => checkEdits([edit({ vector: new Float32Array(3) })], shape),
    /vector has length 3/,
  );
  assert.throws(
    () => checkEdits([edit({ positions: "late" as ResidualEdit["positions"] })], shape),
    /positions is "late"/,
  );
  assert.throws(
    () => checkEdits([edit({ type: "ablate", vector: new Float32Array(2) })], shape),
    /vector is zero/,
  );
});
