import assert from "node:assert/strict";
import { join } from "node:path";
import { benchLong, formatLongBench, type LongPoint, medianPoint } from "./long.ts";

Deno.test("benchLong measures every engine per context in its own process, names ratios after their sides, and replays the scene identically with prefix reuse", async () => {
  const workDir = await Deno.makeTempDir({ prefix: "dramatis_bench_long_" });
  try {
    const r = await benchLong({
      shape: "small",
      contexts: [24, 48],
      engines: ["dramatis", "llamacpp"],
      newTokens: 4,
      threads: 1,
      turns: 3,
      systemTokens: 64,
      workDir: join(workDir, "w"),
      log: () => {},
    });
    assert.equal(r.points.length, 4);
    for (const p of r.points) {
      assert.equal(p.error, undefined, String(p.error));
      assert.ok(p.prefillTokensPerSecond > 0 && p.decodeTokensPerSecond > 0, JSON.stringify(p));
      assert.ok(p.prefillPeakRss > 0);
    }
    for (
      const k of [
        "decode_48_vs_24",
        "decode_48_vs_llamacpp",
        "prefill_48_vs_llamacpp",
        "prefill_peak_rss_48_vs_weights",
        "prefix_reuse_speedup",
      ]
    ) {
      assert.ok(Number.isFinite(r.ratios[k]), k);
    }
    assert.equal(r.simulation?.identicalTranscripts, true);
    // Turns 2 and 3 reuse the previous turn's prompt: the system prompt and the dialogue so far.
    assert.ok(r.simulation!.reusedPromptTokens >= 2 * 64, String(r.simulation!.reusedPromptTokens));
    assert.match(formatLongBench(r), /prefix_reuse_speedup/);
    // What the run derived from the seeded model is gone; the model (linked) stays.
    const there = (p: string) => Deno.stat(join(workDir, "w", p)).then(() => true, () => false);
    assert.deepEqual(
      await Promise.all(["model-f32.gguf", "graphs", "model/onnx", "model/config.json"].map(there)),
      [false, false, false, true],
    );
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
});

Deno.test("medianPoint takes each speed's median over the rounds that ran and the largest peak RSS", () => {
  const p = (decode: number, prefill: number, peak: number, error?: string): LongPoint => ({
    engine: "llamacpp",
    context: 2048,
    prefillTokensPerSecond: prefill,
    decodeTokensPerSecond: decode,
    prefillPeakRss: peak,
    rssBefore: 5,
    ...(error ? { error } : {}),
  });
  assert.deepEqual(medianPoint([p(9, 50, 3), p(13.5, 40, 7), p(10, 60, 4)]), p(10, 50, 7));
  // Even counts average the middle two; failed rounds are left out.
  assert.deepEqual(medianPoint([p(9, 50, 3), p(NaN, NaN, NaN, "x"), p(11, 40, 2)]), p(10, 45, 3));
  assert.equal(medianPoint([p(NaN, NaN, NaN, "boom")]).error, "boom");
});
