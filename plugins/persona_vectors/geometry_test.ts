import assert from "node:assert/strict";
import {
  averagedCosineMatrix,
  classifyCosine,
  combineVectors,
  cosineMatricesByLayer,
  cosineMatrix,
  linearFit,
  meanVectorCosineMatrix,
  relativeTraitScore,
} from "./geometry.ts";

const close = (a: number, b: number, tol = 1e-6) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);
const vec = (rows: number[][]) => ({
  rows: rows.length,
  cols: rows[0].length,
  data: new Float32Array(rows.flat()),
});

// Two rows, d = 2.
const a = vec([[1, 0], [1, 0]]);
const b = vec([[0, 1], [-1, 0]]);
const c = vec([[1, 1], [1, 1]]);

Deno.test("cosineMatrix() gives pairwise cosines at one layer", () => {
  const m = cosineMatrix({ a, b, c }, 0);
  assert.deepEqual(m.names, ["a", "b", "c"]);
  close(m.matrix[0][1], 0);
  close(m.matrix[0][2], Math.SQRT1_2);
  close(m.matrix[1][1], 1);
  close(cosineMatrix({ a, b }, 1).matrix[0][1], -1);
  assert.equal(cosineMatricesByLayer({ a, b }).length, 2);
});

Deno.test("averagedCosineMatrix() averages per-layer cosines; meanVectorCosineMatrix() averages vectors", () => {
  close(averagedCosineMatrix({ a, b }).matrix[0][1], (0 + -1) / 2);
  // means: a → [1, 0], b → [-0.5, 0.5] → cos = -0.5 / (1 · √0.5)
  close(meanVectorCosineMatrix({ a, b }).matrix[0][1], -0.5 / Math.SQRT1_2);
  close(averagedCosineMatrix({ a, b }, [1]).matrix[0][1], -1);
  assert.throws(() => cosineMatrix({ a, d: vec([[1, 2, 3]]) }, 0), /compare vectors of one model/);
});

Deno.test("classifyCosine() uses the 0.3 and -0.5 thresholds", () => {
  assert.equal(classifyCosine(-0.51), "opposite");
  assert.equal(classifyCosine(-0.5), "related");
  assert.equal(classifyCosine(0.299), "orthogonal");
  assert.equal(classifyCosine(-0.299), "orthogonal");
  assert.equal(classifyCosine(0.3), "related");
});

Deno.test("relativeTraitScore() divides B's change by A's change", () => {
  // finetune on critical: critical 11 → 69, optimistic 87 → 11: (11 − 87) / (69 − 11) = −76 / 58
  close(relativeTraitScore({ base: 11, finetuned: 69 }, { base: 87, finetuned: 11 })!, -76 / 58);
  assert.equal(relativeTraitScore({ base: 5, finetuned: 5 }, { base: 1, finetuned: 9 }), null);
});

Deno.test("linearFit() recovers a hand-computed regression", () => {
  // x = [-1, 0, 1, 2], y = [0, 1, 1, 3]: mean x 0.5, mean y 1.25; sxy = 4.5, sxx = 5 → slope 0.9
  const f = linearFit([-1, 0, 1, 2], [0, 1, 1, 3]);
  close(f.slope, 0.9);
  close(f.intercept, 1.25 - 0.45);
  close(f.r, 4.5 / Math.sqrt(5 * 4.75));
  assert.throws(() => linearFit([1], [1]), /at least 2/);
});

Deno.test("combineVectors() sums scaled vectors row by row", () => {
  const m = combineVectors([{ vector: a, coefficient: 2 }, { vector: c, coefficient: -0.5 }]);
  assert.deepEqual([...m.data], [1.5, -0.5, 1.5, -0.5]);
});
