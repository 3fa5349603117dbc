import assert from "node:assert/strict";
import { bootstrapKappa, cohenKappa, quantile } from "./agreement.ts";

/** Expands a 2×2 table (rows: rater A yes/no, columns: rater B yes/no) into label lists. */
function table(yy: number, yn: number, ny: number, nn: number): [string[], string[]] {
  const a: string[] = [], b: string[] = [];
  const put = (x: string, y: string, k: number) => {
    for (let i = 0; i < k; i++) (a.push(x), b.push(y));
  };
  put("yes", "yes", yy);
  put("yes", "no", yn);
  put("no", "yes", ny);
  put("no", "no", nn);
  return [a, b];
}

Deno.test("cohenKappa() matches the textbook 2×2 example (po 0.7, pe 0.5 → κ 0.4)", () => {
  // 50 items: 20 both yes, 5 A-yes/B-no, 10 A-no/B-yes, 15 both no.
  const [a, b] = table(20, 5, 10, 15);
  const k = cohenKappa(a, b);
  assert.equal(k.n, 50);
  assert.ok(Math.abs(k.observed - 0.7) < 1e-12);
  assert.ok(Math.abs(k.expected - 0.5) < 1e-12);
  assert.ok(Math.abs(k.kappa - 0.4) < 1e-12);
});

Deno.test("cohenKappa() handles three labels, perfect and chance agreement", () => {
  const a = ["x", "y", "z", "x", "y", "z"];
  assert.equal(cohenKappa(a, a).kappa, 1);
  // po = 2/6; pa = pb = (1/3 each) → pe = 1/3 → κ = 0.
  assert.ok(Math.abs(cohenKappa(a, ["x", "y", "x", "z", "z", "y"]).kappa) < 1e-12);
  assert.equal(cohenKappa(["x", "x"], ["x", "x"]).kappa, 1);
  assert.equal(cohenKappa(["x", "x"], ["y", "y"]).kappa, 0);
  assert.throws(() => cohenKappa(["x"], []), RangeError);
});

Deno.test("bootstrapKappa() brackets κ, is seeded, and narrows with more items", () => {
  const [a, b] = table(20, 5, 10, 15);
  const k = bootstrapKappa(a, b, { resamples: 1000, seed: 3 });
  assert.ok(k.low < 0.4 && 0.4 < k.high, JSON.stringify(k));
  assert.deepEqual(bootstrapKappa(a, b, { resamples: 1000, seed: 3 }), k);
  const [a4, b4] = table(80, 20, 40, 60);
  const k4 = bootstrapKappa(a4, b4, { resamples: 1000, seed: 3 });
  assert.ok(Math.abs(k4.kappa - 0.4) < 1e-12);
  assert.ok(k4.high - k4.low < k.high - k.low);
  // The large-sample standard error of κ here is about 0.127 at n = 50: a 95% interval of
  // roughly ±0.25; the bootstrap must be of that order.
  assert.ok(k.high - k.low > 0.3 && k.high - k.low < 0.7, `${k.high - k.low}`);
});

Deno.test("quantile() interpolates like numpy's default", () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([1, 2, 3, 4], 0), 1);
  assert.equal(quantile([1, 2, 3, 4], 1), 4);
});
