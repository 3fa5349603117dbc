import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../../core/model/engine.ts";
import { logSoftmax } from "../../core/model/sampling.ts";
import { referenceForward } from "../../core/model/testing/reference.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { loadWeights } from "../../core/model/weights.ts";
import { Prng } from "../../core/util/prng.ts";
import { steeringResolver } from "./steering_resolver.ts";
import { saveVectorFile } from "./vector_io.ts";

async function fixture(
  fn: (f: {
    engine: Engine;
    weights: Awaited<ReturnType<typeof loadWeights>>;
    vectorPath: string;
    v: Float32Array[];
  }) => Promise<void>,
) {
  const root = await Deno.makeTempDir({ prefix: "pv_steer_" });
  try {
    const model = join(root, "model");
    await createTinyModel(model, { preset: "tiny-llama", seed: 11, numLayers: 3 });
    const engine = await Engine.load(model, {
      steering: true,
      threads: 1,
      cacheDir: join(root, "c"),
    });
    try {
      const { numLayers: L, hiddenSize: d } = engine.config;
      const r = new Prng(5);
      const data = new Float32Array((L + 1) * d).map(() => r.next() - 0.5);
      const vectorPath = join(root, "t_response_avg_diff.safetensors");
      await saveVectorFile(vectorPath, { rows: L + 1, cols: d, data }, {
        model: "tiny",
        trait: "t",
        type: "response_avg",
        n_pos: 1,
        n_neg: 1,
        threshold: 50,
      });
      const v = Array.from({ length: L + 1 }, (_, l) => data.slice(l * d, (l + 1) * d));
      await fn({ engine, weights: await loadWeights(model, engine.config), vectorPath, v });
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("steeringResolver() edits change hs[L] of steered positions by exactly c·v[L] and leave the rest", async () => {
  await fixture(async ({ engine, weights, vectorPath, v }) => {
    const { hiddenSize: d } = engine.config;
    const ids = engine.encode("The weather today is rather gloomy")[0];
    const S = ids.length;
    const layer = 2;
    const c = 3.5;
    const plain = await engine.forward([ids], { hiddenStates: true });
    for (const positions of ["response", "all"] as const) {
      const edits = await steeringResolver([{
        vector: vectorPath,
        coefficient: c,
        layer,
        positions,
      }], engine.config);
      assert.equal(edits[0].block, layer - 1);
      const got = await engine.forward([ids], { hiddenStates: true, edits });
      const hs = got.hiddenStates![layer].data as Float32Array;
      const hs0 = plain.hiddenStates![layer].data as Float32Array;
      const steered = (s: number) => positions === "all" || s === S - 1;
      // The independent oracle: the float64 reference forward with the same edit.
      const ref = referenceForward(engine.config, weights, {
        inputIds: [ids],
        edits: [{ block: layer - 1, vector: v[layer], positions: (_b, s) => (steered(s) ? c : 0) }],
      });
      const refPlain = referenceForward(engine.config, weights, { inputIds: [ids] });
      for (let s = 0; s < S; s++) {
        for (let j = 0; j < d; j++) {
          const delta = hs[s * d + j] - hs0[s * d + j];
          const want = steered(s) ? c * v[layer][j] : 0;
          assert.ok(
            Math.abs(delta - want) < 1e-4,
            `${positions} s=${s} j=${j}: Δ ${delta} vs ${want}`,
          );
          const refDelta = ref.hiddenStates[layer][0][s][j] - refPlain.hiddenStates[layer][0][s][j];
          assert.ok(Math.abs(refDelta - want) < 1e-9, `reference Δ ${refDelta} vs ${want}`);
          assert.ok(Math.abs(hs[s * d + j] - ref.hiddenStates[layer][0][s][j]) < 1e-3);
        }
      }
      // Earlier rows are untouched everywhere.
      const below = got.hiddenStates![layer - 1].data as Float32Array;
      assert.deepEqual(below, plain.hiddenStates![layer - 1].data);
    }
  });
});

Deno.test("steeringResolver() position modes hold in KV-cache decode (logprobs match the reference)", async () => {
  await fixture(async ({ engine, weights, vectorPath, v }) => {
    const ids = engine.encode("Once upon a time")[0];
    const P = ids.length;
    const layer = 1;
    const c = 6;
    for (const positions of ["response", "prompt", "all"] as const) {
      const edits = await steeringResolver(
        [
          { vector: vectorPath, coefficient: c / 2, layer, positions },
          { vector: vectorPath, coefficient: c / 2, layer, positions }, // two entries add up
        ],
        engine.config,
      );
      assert.equal(edits.length, 1, "same-block additions merge");
      const g = await engine.generate({ inputIds: [ids] }, {
        maxNewTokens: 5,
        edits,
        logprobs: true,
        seed: 0,
        temperature: 0,
      });
      const tokens = g.completions[0].tokens;
      const seq = [...ids, ...tokens.slice(0, -1)];
      const coef = (s: number) =>
        positions === "all" ? c : positions === "prompt" ? (s < P ? c : 0) : (s >= P - 1 ? c : 0);
      const ref = referenceForward(engine.config, weights, {
        inputIds: [seq],
        edits: [{ block: layer - 1, vector: v[layer], positions: (_b, s) => coef(s) }],
      });
      tokens.forEach((t, k) => {
        const lp = logSoftmax(ref.logits[0][P - 1 + k])[t];
        const got = g.completions[0].logprobs![k].logprob;
        assert.ok(Math.abs(lp - got) < 2e-3, `${positions} step ${k}: ${got} vs reference ${lp}`);
      });
    }
  });
});
