import assert from "node:assert/strict";
import {
  expertGateWeights,
  expertGroupDelta,
  type ExpertGroupParams,
  HARD_MASK_VALUE,
  identityModuleOutput,
} from "./gate_math.ts";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

// Two inputs, one output, rank 1, three experts. Hand-chosen so every delta is easy to compute.
// Expert e: A_e = [[1, 0]] (picks x0), B_e = [[e + 1]] → unscaled delta_e = (e + 1) · x0.
const group: ExpertGroupParams = {
  gateWeight: [[0, 0], [0, 0], [1, 0]],
  gateBias: [0, 0, 0],
  loraA: [[[1, 0]], [[1, 0]], [[1, 0]]],
  loraB: [[[1]], [[2]], [[3]]],
  scaling: 0.5,
};
const x = [2, 7];

Deno.test("expertGateWeights() gives weight 1 to a single active expert", () => {
  const g = expertGateWeights(x, group.gateWeight, group.gateBias, [false, true, false])!;
  close(g.weights[1], 1);
  close(g.logits[1], 0.5); // sigmoid(0)
  assert.equal(g.logits[0], HARD_MASK_VALUE); // exclude (default): −5e4 exactly
  const m = expertGateWeights(x, group.gateWeight, group.gateBias, [false, true, false], {
    maskMode: "multiply",
  })!;
  close(m.logits[0], 0.5 * HARD_MASK_VALUE); // multiply: sigmoid(0) · −5e4
  close(m.weights[1], 1);
  assert.equal(g.weights[0], 0);
  assert.equal(g.weights[2], 0);
});

Deno.test("expertGateWeights() softmaxes sigmoid logits over the active experts", () => {
  // z0 = sigmoid(0) = 0.5, z2 = sigmoid(2) = 0.8807970779778823
  const g = expertGateWeights(x, group.gateWeight, group.gateBias, [true, false, true])!;
  const z2 = 1 / (1 + Math.exp(-2));
  const w0 = Math.exp(0.5) / (Math.exp(0.5) + Math.exp(z2));
  close(g.weights[0], w0);
  close(g.weights[2], 1 - w0);
  close(w0, 0.405935, 1e-6); // 1 / (1 + e^0.380797)
});

Deno.test("expertGateWeights() returns null with no active expert and ignores masks when not sparse", () => {
  assert.equal(expertGateWeights(x, group.gateWeight, group.gateBias, [false, false, false]), null);
  const g = expertGateWeights(x, group.gateWeight, undefined, [false, false, false], {
    sparse: false,
  })!;
  const z2 = 1 / (1 + Math.exp(-2));
  const denom = 2 * Math.exp(0.5) + Math.exp(z2);
  close(g.weights[0], Math.exp(0.5) / denom);
  close(g.weights[2], Math.exp(z2) / denom);
});

Deno.test("expertGroupDelta() equals plain LoRA for one expert and zero for none", () => {
  // expert 2 alone: 0.5 · 3 · x0 = 3
  assert.deepEqual(expertGroupDelta(x, group, [false, false, true]), [3]);
  assert.deepEqual(expertGroupDelta(x, group, [false, false, false]), [0]);
});

Deno.test("expertGroupDelta() mixes two experts by their gate weights", () => {
  const z2 = 1 / (1 + Math.exp(-2));
  const w0 = Math.exp(0.5) / (Math.exp(0.5) + Math.exp(z2));
  const want = w0 * 0.5 * 1 * 2 + (1 - w0) * 0.5 * 3 * 2;
  close(expertGroupDelta(x, group, [true, false, true])[0], want);
});

Deno.test("identityModuleOutput() sums group deltas in parallel on the base output", () => {
  const W = [[1, 1]]; // base: 9
  const y = identityModuleOutput(x, W, [0.5], [
    { params: group, active: [false, true, false] }, // + 0.5 · 2 · 2 = 2
    { params: group, active: [false, false, true] }, // + 3
    { params: group, active: [false, false, false] }, // + 0
  ]);
  close(y[0], 9 + 0.5 + 2 + 3);
});

Deno.test("expertGroupDelta() rejects mismatched shapes", () => {
  assert.throws(
    () => expertGroupDelta(x, { ...group, loraA: [] }, [true, true, true]),
    /one A and one B per expert/,
  );
  assert.throws(
    () => expertGateWeights([1], group.gateWeight, undefined, [true, true, true]),
    /lengths differ/,
  );
});

Deno.test("expertGateWeights() multiply leaks an inactive expert whose gate underflows; exclude does not", () => {
  // Expert 1 is inactive with gate logit −40: sigmoid ≈ 4.2e-18, times −5e4 is still ≈ 0.
  const W = [[0], [-40]];
  const m = expertGateWeights([1], W, [0, 0], [true, false], { maskMode: "multiply" })!;
  // softmax(0.5, ≈0): the inactive expert takes 1 / (1 + e^0.5) of the mix.
  close(m.weights[1], 1 / (1 + Math.exp(0.5)), 1e-9);
  const e = expertGateWeights([1], W, [0, 0], [true, false], { maskMode: "exclude" })!;
  assert.equal(e.weights[1], 0);
  close(e.weights[0], 1);
  assert.equal(e.logits[1], HARD_MASK_VALUE);
  // Default is exclude.
  assert.deepEqual(expertGateWeights([1], W, [0, 0], [true, false]), e);
});

Deno.test("expertGateWeights() multiply and exclude agree when no inactive sigmoid is tiny", () => {
  const a = expertGateWeights(x, group.gateWeight, group.gateBias, [true, false, true], {
    maskMode: "multiply",
  })!;
  const b = expertGateWeights(x, group.gateWeight, group.gateBias, [true, false, true])!;
  a.weights.forEach((w, i) => close(w, b.weights[i]));
});
