import assert from "node:assert/strict";
import { benchQuant, formatQuantBench } from "./quant.ts";

Deno.test("benchQuant() at the small shape reports weight bytes, load peaks and named ratios", async () => {
  const workDir = await Deno.makeTempDir({ prefix: "dramatis_bench_quant_" });
  try {
    const r = await benchQuant({
      shape: "small",
      dtypes: ["f32", "int4", "int4:32"],
      threads: 1,
      promptTokens: 8,
      newTokens: 4,
      workDir,
      qwen7b: false,
      gptq: false,
      rssFit: false,
      rounds: 2,
      log: () => {},
    });
    assert.deepEqual(r.points.map((p) => p.error), [undefined, undefined, undefined]);
    const [f32, int4, int4b32] = r.points;
    assert.equal(r.threads, 1);
    assert.deepEqual(r.points.map((p) => p.format), ["f32", "int4:128", "int4:32"]);
    assert.ok(int4.weightBytes > 0 && int4.weightBytes < 0.4 * f32.weightBytes);
    for (const p of r.points) assert.ok(p.firstLoadPeakRss > r.baselineRss);
    for (
      const k of ["int4_weight_bytes_vs_f32", "int4_decode_vs_f32", "int4_decode_vs_llamacpp_q4_0"]
    ) {
      assert.ok(Number.isFinite(r.ratios[k]), k);
    }
    assert.equal(int4.llamacpp?.format, "q4_0");
    // Two speed rounds: each figure is the median (here the mean) of its two samples.
    assert.equal(r.rounds, 2);
    for (const p of r.points) {
      const d = p.rounds!.decodeTokensPerSecond;
      assert.equal(d.length, 2);
      assert.equal(p.decodeTokensPerSecond, (d[0] + d[1]) / 2);
      const peer = p.rounds!.llamacppDecodeTokensPerSecond;
      assert.equal(peer.length, 2);
      assert.equal(p.llamacpp!.decodeTokensPerSecond, (peer[0] + peer[1]) / 2);
    }
    // int4 and int4:32 share llama.cpp's Q4_0 runs: one per round, not one per dtype.
    assert.equal(int4b32.llamacpp?.format, "q4_0");
    assert.deepEqual(
      int4b32.rounds!.llamacppDecodeTokensPerSecond,
      int4.rounds!.llamacppDecodeTokensPerSecond,
    );
    assert.ok(Number.isFinite(r.ratios["int4:32_decode_vs_llamacpp_q4_0"]));
    assert.ok(int4.top1AgreementWithF32! >= 0 && int4.top1AgreementWithF32! <= 1);
    if (f32.babyllamaPerplexity !== undefined) {
      // A trained model predicts its held-out text far better than chance (vocab 105).
      assert.ok(f32.babyllamaPerplexity > 1 && f32.babyllamaPerplexity < 10);
    }
    assert.match(formatQuantBench(r), /int4/);
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
});
