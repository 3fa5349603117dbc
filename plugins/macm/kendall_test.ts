import assert from "node:assert/strict";
import { Prng } from "../../core/util/prng.ts";
import { kendallTau } from "./kendall.ts";

/** Independent oracle: τ-b from an explicit count over all pairs. */
function bruteTauB(x: number[], y: number[]): number {
  let c = 0, d = 0, tx = 0, ty = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = Math.sign(x[i] - x[j]) * Math.sign(y[i] - y[j]);
      if (s > 0) c++;
      else if (s < 0) d++;
      if (x[i] === x[j]) tx++;
      if (y[i] === y[j]) ty++;
    }
  }
  const n0 = n * (n - 1) / 2;
  return (c - d) / Math.sqrt((n0 - tx) * (n0 - ty));
}

Deno.test("kendallTau() is 1 for equal and -1 for reversed rankings", () => {
  const r = [1, 2, 3, 4, 5, 6, 7, 8];
  assert.equal(kendallTau(r, r), 1);
  assert.equal(kendallTau(r, r.slice().reverse()), -1);
});

Deno.test("kendallTau() matches hand-counted pairs", () => {
  // one adjacent swap among 8: 27 concordant, 1 discordant of 28 pairs
  assert.ok(
    Math.abs(kendallTau([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 3, 4, 5, 6, 7, 8]) - 26 / 28) < 1e-12,
  );
  // [1,3,2]: pairs (1,2)+ (1,3)+ (2,3)- → 1/3
  assert.ok(Math.abs(kendallTau([1, 2, 3], [1, 3, 2]) - 1 / 3) < 1e-12);
  // ties: x=[1,1,2], y=[1,2,3]: c=2, d=0, tx=1, ty=0 → 2/√(2·3)
  assert.ok(Math.abs(kendallTau([1, 1, 2], [1, 2, 3]) - 2 / Math.sqrt(6)) < 1e-12);
});

Deno.test("kendallTau() equals a brute-force pair count on random data with ties", () => {
  const rng = new Prng(11);
  for (let t = 0; t < 300; t++) {
    const n = 2 + rng.int(30);
    const x = Array.from({ length: n }, () => rng.int(6));
    const y = Array.from({ length: n }, () => rng.int(6));
    const want = bruteTauB(x, y);
    const got = kendallTau(x, y);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got));
    else assert.ok(Math.abs(got - want) < 1e-12, `${x} / ${y}: ${got} vs ${want}`);
  }
});

Deno.test("kendallTau() is NaN for a constant side and rejects unequal lengths", () => {
  assert.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(kendallTau([1], [1])));
  assert.throws(() => kendallTau([1, 2], [1]), RangeError);
});
