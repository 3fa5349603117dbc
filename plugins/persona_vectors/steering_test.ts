import assert from "node:assert/strict";
import type { SteeringContext } from "../../core/contracts/steerer.ts";
import { errorCode } from "../../core/errors.ts";
import {
  mergeAddEdits,
  personaVectorSteerer,
  positionCoefficients,
  steeringBlock,
} from "./steering.ts";

Deno.test("positionCoefficients() in prefill: all, prompt and response", () => {
  const pre = { phase: "prefill" as const, seqLen: 5 };
  assert.deepEqual([...positionCoefficients("all", pre, 1.5)], [1.5, 1.5, 1.5, 1.5, 1.5]);
  assert.deepEqual([...positionCoefficients("prompt", pre, 1.5)], [1.5, 1.5, 1.5, 1.5, 1.5]);
  assert.deepEqual([...positionCoefficients("response", pre, 1.5)], [0, 0, 0, 0, 1.5]);
});

Deno.test("positionCoefficients() in decode: all, prompt and response", () => {
  const dec = { phase: "decode" as const, seqLen: 1 };
  assert.deepEqual([...positionCoefficients("all", dec, -2)], [-2]);
  assert.deepEqual([...positionCoefficients("prompt", dec, -2)], [0]);
  assert.deepEqual([...positionCoefficients("response", dec, -2)], [-2]);
  assert.throws(
    () => positionCoefficients("all", { phase: "decode", seqLen: 2 }, 1),
    /exactly 1 token/,
  );
  assert.throws(
    () => positionCoefficients("middle" as "all", dec, 1),
    /use all, prompt or response/,
  );
});

Deno.test("steeringBlock() maps layer L to block L-1 and rejects layer 0", () => {
  assert.equal(steeringBlock(1, 4), 0);
  assert.equal(steeringBlock(4, 4), 3);
  assert.throws(() => steeringBlock(0, 4), /steering layer is 0, the embedding row/);
  assert.throws(() => steeringBlock(5, 4), /accepts 1\.\.4/);
  try {
    steeringBlock(0, 4);
  } catch (e) {
    assert.equal(errorCode(e), "E_CONFIG");
  }
});

// A model with 2 layers and hidden size 2: vectors are [3, 2].
const vec = { rows: 3, cols: 2, data: new Float32Array([0, 0, 1, 2, 3, 4]) };
const ctx = (loaded: string[]): SteeringContext => ({
  numLayers: 2,
  hiddenSize: 2,
  loadVector: (ref) => {
    loaded.push(ref);
    return Promise.resolve(vec);
  },
});

Deno.test("personaVectorSteerer() resolves entries into residual edits", async () => {
  const loaded: string[] = [];
  const s = personaVectorSteerer({
    entries: [
      { vector: "v.safetensors", coefficient: 2, layer: 2 },
      { vector: "v.safetensors", coefficient: 0, layer: 1, positions: "all", type: "ablate" },
    ],
  });
  const edits = await s.resolve(ctx(loaded));
  assert.deepEqual(loaded, ["v.safetensors"]);
  assert.equal(edits.length, 2);
  assert.deepEqual(
    { ...edits[0], vector: [...edits[0].vector] },
    { block: 1, type: "add", vector: [3, 4], coefficient: 2, positions: "response" },
  );
  assert.deepEqual(
    { ...edits[1], vector: [...edits[1].vector] },
    { block: 0, type: "ablate", vector: [1, 2], coefficient: 0, positions: "all" },
  );
});

Deno.test("personaVectorSteerer() rejects layer 0, wrong shapes and zero ablations", async () => {
  await assert.rejects(
    async () => {
      await personaVectorSteerer({ entries: [{ vector: "v", coefficient: 1, layer: 0 }] }).resolve(
        ctx([]),
      );
    },
    /layer is 0/,
  );
  const wrong = { rows: 2, cols: 2, data: new Float32Array(4) };
  await assert.rejects(
    async () => {
      await personaVectorSteerer({
        entries: [{ vector: "w", coefficient: 1, layer: 1 }],
        vectors: { w: wrong },
      })
        .resolve(ctx([]));
    },
    /is \[2, 2\] but this model needs \[3, 2\]/,
  );
  await assert.rejects(
    async () => {
      const zero = { rows: 3, cols: 2, data: new Float32Array(6) };
      await personaVectorSteerer({
        entries: [{ vector: "v", coefficient: 1, layer: 1, type: "ablate" }],
        vectors: { v: zero },
      }).resolve(ctx([]));
    },
    /all zeros/,
  );
});

Deno.test("mergeAddEdits() sums same-block additions into one linear combination", () => {
  const mk = (
    block: number,
    c: number,
    v: number[],
    positions: "all" | "response" = "response",
  ) => ({
    block,
    type: "add" as const,
    vector: new Float32Array(v),
    coefficient: c,
    positions,
  });
  const out = mergeAddEdits([
    mk(1, 2, [1, 0]),
    mk(1, -1, [0.5, 3]),
    mk(2, 1, [1, 1]),
    mk(1, 1, [1, 1], "all"),
  ]);
  assert.equal(out.length, 3);
  assert.deepEqual([...out[0].vector], [1.5, -3]);
  assert.equal(out[0].coefficient, 1);
});
