import assert from "node:assert/strict";
import { join } from "node:path";
import { benchLong, formatLongBench, type LongPoint, medianPoint, pairedRatio } from "./long.ts";

Deno.test("benchLong measures every engine per context in its own process, every context in each round, names ratios after their sides, and replays the scene identically with prefix reuse", async () => {
  const workDir = await Deno.makeTempDir({ prefix: "dramatis_bench_long_" });
  try {
    const r = await benchLong({
      shape: "small",
      contexts: [24, 48],
      engines: ["dramatis", "llamacpp", "llamacpp_f32kv"],
      rounds: 2,
      newTokens: 4,
      threads: 1,
      pairedBursts: 3,
      turns: 3,
      systemTokens: 64,
      workDir: join(workDir, "w"),
      log: () => {},
    });
    assert.equal(r.points.length, 6);
    // Each round measures every context; the second in reverse order.
    assert.deepEqual(r.samples!.map((p) => `${p.context} ${p.engine}`), [
      "24 dramatis",
      "24 llamacpp",
      "24 llamacpp_f32kv",
      "48 dramatis",
      "48 llamacpp",
      "48 llamacpp_f32kv",
      "48 llamacpp_f32kv",
      "48 llamacpp",
      "48 dramatis",
      "24 llamacpp_f32kv",
      "24 llamacpp",
      "24 dramatis",
    ]);
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
        "decode_48_vs_llamacpp_f32kv",
        "prefill_peak_rss_48_vs_weights",
        "prefix_reuse_speedup",
      ]
    ) {
      assert.ok(Number.isFinite(r.ratios[k]), k);
    }
    // In turns: Dramatis at each context against each llama.cpp engine, then each engine at the
    // second context against itself at the first, three bursts a side.
    assert.deepEqual(
      r.paired!.map((p) => `${p.context} ${p.engine} ${p.peer} ${p.peerContext ?? "-"}`),
      [
        "24 dramatis llamacpp -",
        "24 dramatis llamacpp_f32kv -",
        "48 dramatis llamacpp -",
        "48 dramatis llamacpp_f32kv -",
        "48 dramatis dramatis 24",
        "48 llamacpp llamacpp 24",
        "48 llamacpp_f32kv llamacpp_f32kv 24",
      ],
    );
    for (const p of r.paired!) {
      assert.equal(p.error, undefined, String(p.error));
      assert.equal(p.bursts.length, 3);
      assert.equal(p.peerBursts.length, 3);
      assert.ok([...p.bursts, ...p.peerBursts].every((v) => v > 0 && Number.isFinite(v)));
      const side = p.engine === "dramatis" ? "" : `${p.engine}_`;
      assert.equal(
        r.ratios[`${side}decode_${p.context}_vs_${p.peerContext ?? p.peer}_paired`],
        p.ratio,
      );
      assert.equal(p.ratio, pairedRatio(p.bursts, p.peerBursts));
    }
    for (
      const k of [
        "decode_24_vs_llamacpp_paired",
        "decode_48_vs_llamacpp_f32kv_paired",
        "decode_48_vs_24_paired",
        "llamacpp_decode_48_vs_24_paired",
        "llamacpp_f32kv_decode_48_vs_24_paired",
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

Deno.test("benchLong --dtype int4 runs llama.cpp on the Q4_0 export, leaves transformers.js out and divides memory by the int4 weights file", async () => {
  const workDir = await Deno.makeTempDir({ prefix: "dramatis_bench_long_q_" });
  try {
    await assert.rejects(
      benchLong({
        shape: "small",
        contexts: [24],
        engines: ["dramatis", "transformersjs"],
        dtype: "int4",
        workDir: join(workDir, "w"),
        log: () => {},
      }),
      /transformersjs has no weights at the bits of --dtype int4:128/,
    );
    const r = await benchLong({
      shape: "small",
      contexts: [24, 48],
      newTokens: 4,
      threads: 1,
      turns: 2,
      systemTokens: 32,
      dtype: "int4",
      workDir: join(workDir, "w"),
      keepCache: true,
      log: () => {},
    });
    assert.equal(r.format, "int4:128");
    assert.equal(r.llamacppFormat, "q4_0");
    assert.deepEqual([...new Set(r.points.map((p) => p.engine))], [
      "dramatis",
      "llamacpp",
      "llamacpp_f32kv",
    ]);
    for (const p of r.points) assert.equal(p.error, undefined, String(p.error));
    assert.ok(Number.isFinite(r.ratios.decode_48_vs_llamacpp));
    assert.equal(r.simulation?.identicalTranscripts, true);
    assert.match(formatLongBench(r), /at int4:128 \(llama\.cpp at q4_0\)/);
    // The weights the memory ratios divide by are the int4 weights file the graphs share.
    const weights = join(workDir, "w", "graphs-int4-128", "weights");
    const [key] = await Array.fromAsync(Deno.readDir(weights));
    assert.equal(r.weightBytes, (await Deno.stat(join(weights, key.name, "weights.bin"))).size);
    assert.ok(r.weightBytes < 2 * r.params, `${r.weightBytes} bytes for ${r.params} params`);
    assert.equal(
      r.ratios.prefill_peak_rss_48_vs_weights,
      r.points.find((p) => p.engine === "dramatis" && p.context === 48)!.prefillPeakRss /
        r.weightBytes,
    );
    assert.ok((await Deno.stat(join(workDir, "w", "model-q4_0.gguf"))).size > 0);
    // Without --keep-cache a run removes the GGUF and the graphs it derived at that format.
    await benchLong({
      shape: "small",
      contexts: [24],
      newTokens: 2,
      threads: 1,
      turns: 0,
      dtype: "int4",
      workDir: join(workDir, "w"),
      log: () => {},
    });
    const there = (p: string) => Deno.stat(join(workDir, "w", p)).then(() => true, () => false);
    assert.deepEqual(
      await Promise.all(["model-q4_0.gguf", "graphs-int4-128", "model/config.json"].map(there)),
      [false, false, true],
    );
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
});

Deno.test("pairedRatio is the median of the ratios of measurements taken side by side", () => {
  // Drift slows both sides of a pair: the pairs say 1.0, 1.0, 1.2 whatever the drift.
  assert.equal(pairedRatio([10, 5, 12], [10, 5, 10]), 1);
  assert.equal(pairedRatio([12, 6], [10, 5]), 1.2);
  assert.throws(() => pairedRatio([1, 2], [1]), RangeError);
  assert.throws(() => pairedRatio([], []), RangeError);
});
