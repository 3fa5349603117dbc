import assert from "node:assert/strict";
import { join } from "node:path";
import { fitLine, formatRssFit, rssFit } from "./quant_rss_fit.ts";

Deno.test("fitLine() recovers a line exactly and reports the largest residual", () => {
  const exact = fitLine([[1, 7], [3, 11], [10, 25]]);
  assert.ok(Math.abs(exact.per_weight_byte - 2) < 1e-12);
  assert.ok(Math.abs(exact.fixed_bytes - 5) < 1e-12);
  assert.ok(exact.max_residual_bytes < 1e-9);
  // y = x with one point 3 above: slope and intercept by the normal equations.
  const off = fitLine([[0, 0], [1, 1], [2, 5]]);
  assert.ok(Math.abs(off.per_weight_byte - 2.5) < 1e-12);
  assert.ok(Math.abs(off.fixed_bytes - -0.5) < 1e-12);
  assert.ok(Math.abs(off.max_residual_bytes - 1) < 1e-12);
});

Deno.test("rssFit() loads each shape first and cached in its own process and removes its graphs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_rss_fit_" });
  try {
    const base = { preset: "tiny-qwen2" as const, numHeads: 4, numKvHeads: 2, vocabSize: 512 };
    const fit = await rssFit({
      dir,
      dtype: "int4",
      threads: 1,
      shapes: {
        a: { ...base, hiddenSize: 64, intermediateSize: 128, numLayers: 1 },
        b: { ...base, hiddenSize: 128, intermediateSize: 256, numLayers: 2 },
      },
      log: () => {},
    });
    assert.deepEqual(fit.points.map((p) => p.shape), ["a", "b"]);
    const [a, b] = fit.points;
    assert.ok(a.parameters < b.parameters && a.weight_bytes < b.weight_bytes);
    for (const p of fit.points) {
      assert.ok(p.first_load_peak_rss_bytes > p.weight_bytes);
      assert.ok(p.cached_load_peak_rss_bytes > p.weight_bytes);
    }
    // Two points: the line passes through both.
    assert.ok(Number.isFinite(fit.cached_load.per_weight_byte));
    assert.ok(fit.cached_load.max_residual_bytes < 1);
    for (const s of ["a", "b"]) {
      assert.equal(
        await Deno.stat(join(dir, s, "graphs-int4")).then(() => true, () => false),
        false,
      );
    }
    assert.match(formatRssFit(fit), /cached load: peak ≈/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
