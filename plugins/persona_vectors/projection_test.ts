import assert from "node:assert/strict";
import { hiddenStatesFromNested } from "./hidden_states.ts";
import {
  ablate,
  cosineSimilarity,
  finetuningShift,
  projectionColumnName,
  projectionDifference,
  projectionMetrics,
  scalarProjection,
} from "./projection.ts";

const close = (a: number, b: number, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

// rows 0..1, tokens 3, d 2; prompt length 2
const hs = hiddenStatesFromNested([
  [[9, 9], [9, 9], [9, 9]],
  [[2, 0], [0, 4], [6, 8]],
]);
const v = { rows: 2, cols: 2, data: new Float32Array([1, 1, 3, 4]) }; // row 1 = [3, 4], |v| = 5

Deno.test("projectionMetrics() projects the three summaries and the cosine", () => {
  const m = projectionMetrics(hs, 2, v, 1);
  close(m.proj, (6 * 3 + 8 * 4) / 5); // response_avg [6, 8] → 10
  close(m.prompt_last_proj, (0 * 3 + 4 * 4) / 5); // [0, 4] → 3.2
  close(m.prompt_avg_proj, (1 * 3 + 2 * 4) / 5); // [1, 2] → 2.2
  close(m.cos_sim, 1); // [6, 8] ∥ [3, 4]
  assert.throws(() => projectionMetrics(hs, 2, v, 2), /rows 0\.\.1/);
  assert.throws(
    () => projectionMetrics(hs, 2, { rows: 2, cols: 3, data: new Float32Array(6) }, 1),
    /\[2, 3\]/,
  );
});

Deno.test("scalarProjection() and cosineSimilarity() match hand values", () => {
  close(scalarProjection([1, 2], [3, 4]), 11 / 5);
  close(cosineSimilarity([1, 2], [3, 4]), 11 / (Math.sqrt(5) * 5));
  assert.ok(Number.isNaN(cosineSimilarity([0, 0], [1, 0])));
  assert.throws(() => scalarProjection([1, 0], [0, 0]), /zero length/);
});

Deno.test("finetuningShift() projects the difference of summaries of the two models", () => {
  const base = hiddenStatesFromNested([
    [[9, 9], [9, 9], [9, 9]],
    [[2, 0], [0, 1], [6, 8]],
  ]);
  // prompt_last at layer 1: ft [0, 4] − base [0, 1] = [0, 3] → 12 / 5
  close(finetuningShift(hs, base, 2, v, 1), 2.4);
  close(finetuningShift(hs, base, 2, v, 1, "response_avg"), 0);
});

Deno.test("projectionDifference() subtracts the base mean from the training mean", () => {
  close(projectionDifference([2, 4, 9], [1, 3]), 5 - 2);
});

Deno.test("ablate() removes exactly the component along v", () => {
  const h = [6, 8, 1];
  const out = ablate(h, [3, 4, 0]);
  assert.deepEqual([...out], [0, 0, 1]);
  const out2 = ablate([1, 2, 3], [0, 0, 2]);
  assert.deepEqual([...out2], [1, 2, 0]);
  close(out2[0] * 0 + out2[1] * 0 + out2[2] * 2, 0);
});

Deno.test("projectionColumnName() follows the upstream pattern", () => {
  assert.equal(
    projectionColumnName("Qwen3-4B", "critical_response_avg_diff", "prompt_last_proj", 20, true),
    "Qwen3-4B_critical_response_avg_diff_prompt_last_proj_layer20_finetuning_shift",
  );
});
