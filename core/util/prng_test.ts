import assert from "node:assert/strict";
import { Prng } from "./prng.ts";

Deno.test("Prng() repeats exactly for a seed and differs across seeds", () => {
  const a = new Prng(7), b = new Prng(7), c = new Prng(8);
  const xs = Array.from({ length: 50 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 50 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 50 }, () => c.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

Deno.test("Prng.int() covers its range uniformly enough", () => {
  const r = new Prng(1);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 50_000; i++) counts[r.int(5)]++;
  // Each bucket expects 10 000; a binomial standard deviation is about 89.
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, String(counts));
  assert.throws(() => r.int(0), RangeError);
});

Deno.test("Prng.shuffle() returns a permutation and Prng.normal() has unit variance", () => {
  const r = new Prng(3);
  const items = Array.from({ length: 20 }, (_, i) => i);
  const s = r.shuffle(items);
  assert.deepEqual([...s].sort((x, y) => x - y), items);
  assert.notDeepEqual(s, items);
  let sum = 0, sq = 0;
  const n = 40_000;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    sum += x;
    sq += x * x;
  }
  assert.ok(Math.abs(sum / n) < 0.03);
  assert.ok(Math.abs(sq / n - 1) < 0.05);
});
