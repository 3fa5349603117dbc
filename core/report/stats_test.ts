import assert from "node:assert/strict";
import {
  bootstrap,
  bootstrapDifference,
  bootstrapSpearman,
  mean,
  pearson,
  quantile,
  ranks,
  spearman,
} from "./stats.ts";

Deno.test("ranks() gives ties their average rank; spearman() matches the textbook formula", () => {
  assert.deepEqual(ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
  // Without ties ρ = 1 − 6 Σd² / (n(n² − 1)).
  const x = [1, 2, 3, 4, 5, 6];
  const y = [2, 1, 4, 3, 6, 5];
  const d2 = ranks(x).reduce((a, r, i) => a + (r - ranks(y)[i]) ** 2, 0);
  const n = x.length;
  assert.ok(Math.abs(spearman(x, y) - (1 - (6 * d2) / (n * (n * n - 1)))) < 1e-12);
  assert.equal(spearman([1, 2, 3], [30, 20, 10]), -1);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])), "a constant side has no correlation");
});

Deno.test("quantile() interpolates linearly like numpy's default", () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([0, 10], 0.25), 2.5);
  assert.equal(quantile([7], 0.9), 7);
});

Deno.test("bootstrap intervals: seeded, contain the estimate, shrink with more data", () => {
  const small = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? 0 : 1));
  const big = Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? 0 : 1));
  const a = bootstrap(small);
  const b = bootstrap(big);
  assert.equal(a.value, 0.75);
  assert.deepEqual(bootstrap(small), a, "same seed, same interval");
  assert.ok(a.lo < 0.75 && a.hi > 0.75);
  assert.ok(b.hi - b.lo < (a.hi - a.lo) / 2);
  // Normal approximation for a proportion: half-width ≈ 1.96 · sqrt(p(1 − p)/n).
  const half = 1.96 * Math.sqrt(0.75 * 0.25 / 400);
  assert.ok(Math.abs((b.hi - b.lo) / 2 - half) < 0.015, `${b.lo} ${b.hi} vs ±${half}`);
  const d = bootstrapDifference([3, 4, 5, 4], [0, 1, 2, 1]);
  assert.equal(d.value, mean([3, 4, 5, 4]) - mean([0, 1, 2, 1]));
  assert.ok(d.lo > 0);
  const r = bootstrapSpearman([1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 2, 4, 6, 5, 8, 7]);
  assert.ok(r.lo > 0 && r.value > 0.9);
});
