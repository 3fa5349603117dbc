import assert from "node:assert/strict";
import { encodeIdentities, encodeSlots, slotMasks, slotTensor } from "./encode.ts";
import { identityGroups } from "./identities.ts";

const E: [number, number] = [-1, -1];

Deno.test("encodeIdentities() reproduces the spec's flat example", () => {
  assert.deepEqual(encodeIdentities(["Artist", "AGR_high", "OPE_low"], "flat"), [
    [0, 11],
    [0, 0],
    [0, 9],
    E,
    E,
    E,
  ]);
});

Deno.test("encodeIdentities() reproduces the spec's alternate/layered example", () => {
  const want = [[1, 1], [0, 0], [0, 9], E, E, E];
  assert.deepEqual(encodeIdentities(["Artist", "AGR_high", "OPE_low"], "alternate"), want);
  assert.deepEqual(encodeIdentities(["Artist", "AGR_high", "OPE_low"], "layered"), want);
});

Deno.test("encodeSlots() maps an unknown surviving name to an empty slot", () => {
  assert.deepEqual(encodeIdentities(["AGR_medium", "Doctor"], "alternate"), [
    E,
    [1, 0],
    E,
    E,
    E,
    E,
  ]);
  assert.deepEqual(encodeIdentities([], "flat"), [E, E, E, E, E, E]);
});

Deno.test("encodeSlots() refuses more than six names", () => {
  assert.throws(
    () => encodeSlots(["a", "b", "c", "d", "e", "f", "g"], identityGroups("flat")),
    /at most 6/,
  );
});

Deno.test("slotTensor() repeat-interleaves rows for beams", () => {
  const a = encodeIdentities(["EXT_low"], "flat"); // [0,5]
  const b = encodeIdentities(["Doctor"], "flat"); // [0,10]
  const t = slotTensor([a, b], 2);
  assert.deepEqual(t.shape, [4, 6, 2]);
  const rowStarts = [0, 12, 24, 36].map((i) => [Number(t.data[i]), Number(t.data[i + 1])]);
  assert.deepEqual(rowStarts, [[0, 5], [0, 5], [0, 10], [0, 10]]);
  assert.equal(Number(t.data[2]), -1);
});

Deno.test("slotMasks() marks active experts per group", () => {
  const m = slotMasks(encodeIdentities(["Artist", "AGR_high", "OPE_low"], "alternate"), [10, 3]);
  assert.deepEqual(m[0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(m[1], [0, 1, 0]);
  assert.throws(() => slotMasks([[2, 0]], [10, 3]), /outside the groups/);
});
