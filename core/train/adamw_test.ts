import assert from "node:assert/strict";
import { AdamW, clipGradNorm } from "./adamw.ts";
import { learningRate } from "./schedule.ts";

/** Float64 reference of PyTorch's AdamW update, written out step by step. */
function reference(
  w: number[],
  grads: number[][],
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  wd: number,
) {
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    w.forEach((_, i) => {
      w[i] -= lr * wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2;
      const mh = m[i] / (1 - b1 ** t);
      const vh = v[i] / (1 - b2 ** t);
      w[i] -= (lr * mh) / (Math.sqrt(vh) + eps);
    });
  });
  return w;
}

Deno.test("AdamW.step() matches the decoupled-weight-decay update of PyTorch", () => {
  const p = { name: "w", shape: [3], data: new Float32Array([0.5, -1, 2]) };
  const opt = new AdamW([p], { betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 });
  const grads = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1], [-0.3, 0, 0.2]];
  for (const g of grads) opt.step(new Map([["w", Float32Array.from(g)]]), 0.01);
  const want = reference([0.5, -1, 2], grads, 0.01, 0.8, 0.95, 1e-6, 0.1);
  p.data.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-6, `${x} vs ${want[i]}`));
  assert.equal(opt.stepCount, 3);
});

Deno.test("AdamW.load() restores a state so later steps continue identically", () => {
  const mk = () => ({ name: "w", shape: [2], data: new Float32Array([1, 2]) });
  const a = mk();
  const optA = new AdamW([a]);
  optA.step(new Map([["w", new Float32Array([0.1, 0.2])]]), 0.1);
  const b = { ...mk(), data: Float32Array.from(a.data) };
  const optB = new AdamW([b]);
  optB.load(optA.state());
  optA.step(new Map([["w", new Float32Array([0.3, -0.1])]]), 0.1);
  optB.step(new Map([["w", new Float32Array([0.3, -0.1])]]), 0.1);
  assert.deepEqual(a.data, b.data);
});

Deno.test("AdamW rejects bad hyper-parameters and mismatched gradients", () => {
  const p = { name: "w", shape: [2], data: new Float32Array(2) };
  assert.throws(() => new AdamW([p], { betas: [1, 0.9] }), /betas is \[1, 0\.9\]/);
  assert.throws(() => new AdamW([p], { eps: 0 }), /eps is 0/);
  assert.throws(() => new AdamW([p]).step(new Map(), 1e-3), /gradient of "w" is missing/);
});

Deno.test("clipGradNorm() scales to the max global norm and returns the norm before", () => {
  const g = new Map([["a", new Float32Array([3, 0])], ["b", new Float32Array([4])]]);
  assert.equal(clipGradNorm(g, 10), 5);
  assert.deepEqual([...g.get("a")!], [3, 0]);
  assert.equal(clipGradNorm(g, 1), 5);
  const norm = Math.hypot(...g.get("a")!, ...g.get("b")!);
  assert.ok(Math.abs(norm - 1) < 1e-5);
});

Deno.test("learningRate() warms up linearly, then decays linearly or by cosine", () => {
  const o = { lr: 1, totalSteps: 12, warmupSteps: 2 };
  assert.deepEqual([0, 1, 2].map((s) => learningRate(s, o)), [0.5, 1, 1]);
  assert.ok(Math.abs(learningRate(7, o) - 0.5) < 1e-12);
  assert.equal(learningRate(12, o), 0);
  const c = { ...o, decay: "cosine" as const, minLrRatio: 0.1 };
  assert.ok(Math.abs(learningRate(7, c) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(12, c) - 0.1) < 1e-12);
  assert.equal(learningRate(9, { ...o, decay: "constant" as const }), 1);
});
