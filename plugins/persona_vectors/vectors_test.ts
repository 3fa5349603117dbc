import assert from "node:assert/strict";
import { hiddenStatesFromNested, layerRow } from "./hidden_states.ts";
import { meanDifferenceVectors, summarizeSample, VectorAccumulator } from "./vectors.ts";

// Two rows (L = 1), four tokens, d = 2; prompt length 3.
const hsA = hiddenStatesFromNested([
  [[1, 0], [2, 0], [3, 0], [10, 1]],
  [[0, 1], [0, 2], [0, 6], [4, 4]],
]);
// Two rows, three tokens, prompt length 1.
const hsB = hiddenStatesFromNested([
  [[5, 5], [1, 1], [3, 3]],
  [[1, 0], [2, 0], [4, 0]],
]);

Deno.test("summarizeSample() computes the three summaries per row", () => {
  const s = summarizeSample(hsA, 3);
  assert.deepEqual([...s.prompt_avg], [2, 0, 0, 3]);
  assert.deepEqual([...s.response_avg], [10, 1, 4, 4]);
  assert.deepEqual([...s.prompt_last], [3, 0, 0, 6]);
  const t = summarizeSample(hsB, 1);
  assert.deepEqual([...t.prompt_avg], [5, 5, 1, 0]);
  assert.deepEqual([...t.response_avg], [2, 2, 3, 0]);
  assert.deepEqual([...t.prompt_last], [5, 5, 1, 0]);
});

Deno.test("summarizeSample() rejects a prompt length with no response token", () => {
  assert.throws(() => summarizeSample(hsA, 4), /prompt length is 4 for a sequence of 4 tokens/);
  assert.throws(() => summarizeSample(hsA, 0), RangeError);
});

Deno.test("meanDifferenceVectors() subtracts the negative mean from the positive mean", () => {
  // pos = {A (P=3), B (P=1)}; neg = {B (P=1)}
  const v = meanDifferenceVectors(
    [{ hs: hsA, promptLength: 3 }, { hs: hsB, promptLength: 1 }],
    [{ hs: hsB, promptLength: 1 }],
  );
  // response_avg pos mean: ([10,1,4,4] + [2,2,3,0]) / 2 = [6, 1.5, 3.5, 2]; minus [2,2,3,0]
  assert.deepEqual([...v.response_avg.data], [4, -0.5, 0.5, 2]);
  // prompt_avg: ([2,0,0,3] + [5,5,1,0]) / 2 − [5,5,1,0] = [-1.5, -2.5, -0.5, 1.5]
  assert.deepEqual([...v.prompt_avg.data], [-1.5, -2.5, -0.5, 1.5]);
  // prompt_last: ([3,0,0,6] + [5,5,1,0]) / 2 − [5,5,1,0] = [-1, -2.5, -0.5, 3]
  assert.deepEqual([...v.prompt_last.data], [-1, -2.5, -0.5, 3]);
  assert.equal(v.response_avg.rows, 2);
  assert.deepEqual([...layerRow(v.response_avg, 1)], [0.5, 2]);
  assert.ok(v.response_avg.data instanceof Float32Array);
});

Deno.test("VectorAccumulator needs both polarities and one shape", () => {
  const acc = new VectorAccumulator();
  acc.add("pos", hsA, 2);
  assert.throws(() => acc.result(), /have 1 and 0/);
  assert.throws(() => acc.add("neg", hiddenStatesFromNested([[[1], [2]]]), 1), /shape \[1, 1\]/);
  assert.deepEqual(acc.counts, { pos: 1, neg: 0 });
});
