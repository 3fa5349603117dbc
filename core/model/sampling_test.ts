import assert from "node:assert/strict";
import {
  applyAllowedTokens,
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  greedy,
  logSoftmax,
  sampleCategorical,
  selectToken,
  softmax,
  topKIndices,
  validateSampling,
} from "./sampling.ts";
import { Prng } from "../util/prng.ts";

const close = (a: number, b: number, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

Deno.test("applyRepetitionPenalty() divides positive and multiplies negative logits once", () => {
  const l = applyRepetitionPenalty(new Float32Array([2, -2, 1, 0]), [0, 1, 1, 3, 9], 2);
  assert.deepEqual([...l], [1, -4, 1, 0]);
});

Deno.test("applyTemperature() divides logits", () => {
  assert.deepEqual([...applyTemperature(new Float32Array([2, -4]), 2)], [1, -2]);
});

Deno.test("applyTopK() keeps the k largest", () => {
  const l = applyTopK(new Float32Array([1, 3, 2, 0]), 2);
  assert.deepEqual([...l], [-Infinity, 3, 2, -Infinity]);
  assert.deepEqual(topKIndices(new Float32Array([5, 1, 5, 7, 0]), 3), [3, 0, 2]);
});

Deno.test("applyTopP() keeps the smallest set reaching p and at least one token", () => {
  // probs of [0, ln 2, ln 4, ln 8] = [1, 2, 4, 8] / 15
  const base = [0, Math.log(2), Math.log(4), Math.log(8)];
  const finite = (l: Float32Array) => [...l].map((x) => x !== -Infinity);
  // 8/15 = 0.533 >= 0.5 → only token 3
  assert.deepEqual(finite(applyTopP(new Float32Array(base), 0.5)), [false, false, false, true]);
  // 0.6 needs 8/15 + 4/15 = 0.8
  assert.deepEqual(finite(applyTopP(new Float32Array(base), 0.6)), [false, false, true, true]);
  // 0.85 needs 14/15 = 0.933
  assert.deepEqual(finite(applyTopP(new Float32Array(base), 0.85)), [false, true, true, true]);
  assert.deepEqual(finite(applyTopP(new Float32Array(base), 0.01)), [false, false, false, true]);
});

Deno.test("applyTopP() finds the nucleus among many tiny probabilities", () => {
  // one big token and 10000 equal small ones: mass 0.5 / 0.5
  const n = 10001;
  const l = new Float32Array(n).fill(0);
  l[0] = Math.log(10000);
  applyTopP(l, 0.75);
  const kept = [...l].filter((x) => x !== -Infinity).length;
  // 0.5 + k * 0.00005 >= 0.75 → k = 5000
  assert.ok(Math.abs(kept - 5001) <= 1, `kept ${kept}`);
});

Deno.test("applyAllowedTokens() masks the rest and rejects an empty set", () => {
  assert.deepEqual([...applyAllowedTokens(new Float32Array([1, 2, 3]), [0, 2])], [
    1,
    -Infinity,
    3,
  ]);
  assert.deepEqual([...applyAllowedTokens(new Float32Array([1, 2]), new Uint8Array([0, 1]))], [
    -Infinity,
    2,
  ]);
  assert.throws(() => applyAllowedTokens(new Float32Array([1, 2]), []), RangeError);
});

Deno.test("softmax() and logSoftmax() match hand values", () => {
  const p = softmax(new Float32Array([0, Math.log(3)]));
  close(p[0], 0.25, 1e-7);
  close(p[1], 0.75, 1e-7);
  const lp = logSoftmax(new Float32Array([1, 1, -Infinity]));
  close(lp[0], Math.log(0.5));
  assert.equal(lp[2], -Infinity);
});

Deno.test("greedy() returns the first maximum", () => {
  assert.equal(greedy(new Float32Array([1, 5, 5, 2])), 1);
});

Deno.test("sampleCategorical() follows the distribution and is seeded", () => {
  const l = new Float32Array([0, Math.log(3), -Infinity]);
  const prng = new Prng(11);
  const counts = [0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[sampleCategorical(l, prng)]++;
  assert.equal(counts[2], 0);
  assert.ok(Math.abs(counts[1] / 4000 - 0.75) < 0.03, `${counts}`);
  const draw = (seed: number) => {
    const r = new Prng(seed);
    return Array.from({ length: 20 }, () => sampleCategorical(l, r));
  };
  assert.deepEqual(draw(5), draw(5));
  assert.notDeepEqual(draw(5), draw(6));
});

Deno.test("selectToken() reports logprobs before truncation and honours the mask", () => {
  const opts = validateSampling({ temperature: 2, topK: 1 });
  const logits = new Float32Array([2, 4, 0]);
  const r = selectToken(logits, opts, {
    sequence: [],
    generated: [],
    row: 0,
    prng: new Prng(1),
    topLogprobs: 2,
  });
  assert.equal(r.token, 1); // top-k 1 leaves only token 1
  // log-softmax of [1, 2, 0]
  const lse = Math.log(Math.E + Math.E ** 2 + 1);
  close(r.logprob, 2 - lse, 1e-6);
  assert.deepEqual(r.top.map((t) => t.token), [1, 0]);
  close(r.top[1].logprob, 1 - lse, 1e-6);

  const masked = validateSampling({ allowedTokens: (step) => step === 0 ? [2] : null });
  const m = selectToken(new Float32Array([2, 4, 0]), masked, {
    sequence: [],
    generated: [],
    row: 0,
  });
  assert.equal(m.token, 2);
  close(m.logprob, 0);
});

Deno.test("validateSampling() rejects bad values with the field name", () => {
  assert.throws(() => validateSampling({ temperature: -1 }), /temperature is -1/);
  assert.throws(() => validateSampling({ topP: 0 }), /topP is 0/);
  assert.throws(() => validateSampling({ topK: 1.5 }), /topK is 1.5/);
  assert.throws(() => validateSampling({ repetitionPenalty: 0 }), /repetitionPenalty is 0/);
});
