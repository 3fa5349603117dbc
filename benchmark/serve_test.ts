import assert from "node:assert/strict";
import { join } from "node:path";
import { benchRequest, benchServe, formatServeBench } from "./serve.ts";

// Correctness and shape, not timing: a very small run on a fresh model directory.
Deno.test("benchServe measures both paths per level and every server answer equals the direct one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const r = await benchServe({
      requests: 4,
      maxTokens: 6,
      concurrency: [1, 4],
      rounds: 2,
      warmup: 1,
      overheadRequests: 10,
      threads: 1,
      workDir: join(dir, "bench"),
      log: (l) => lines.push(l),
    });
    assert.ok(lines.some((l) => l.startsWith("building the benchmark model")));
    assert.deepEqual(r.levels.map((l) => l.concurrency), [1, 4]);
    assert.equal(r.requests, 4);
    assert.equal(r.maxTokens, 6);
    assert.equal(r.model.numLayers, 4);
    assert.equal(r.model.hiddenSize, 256);
    assert.ok(r.model.params > 1e6);
    assert.ok(Number.isFinite(r.loadAverage) && r.loadAverage >= 0);
    assert.equal(r.server.maxConcurrent, 4);
    for (const level of r.levels) {
      for (const s of [level.direct, level.server]) {
        assert.equal(s.requests, 8); // 4 per round
        assert.equal(s.failures, 0);
        assert.ok(s.requestsPerSecond > 0 && s.seconds > 0);
        assert.ok(s.p50Ms > 0 && s.p50Ms <= s.p95Ms && s.p95Ms <= s.maxMs);
        assert.ok(s.completionTokens > 0 && s.completionTokens <= 8 * 6);
      }
      // Same seeds, same requests: both paths generate the same tokens.
      assert.equal(level.server.completionTokens, level.direct.completionTokens);
      assert.equal(level.roundRatios.length, 2);
      for (const x of [level.ratios.throughput, level.ratios.p50, level.ratios.p95]) {
        assert.ok(Number.isFinite(x) && x > 0);
      }
    }
    assert.deepEqual(r.correctness, {
      compared: 16,
      failures: 0,
      mismatches: 0,
      ok: true,
      examples: [],
    });
    assert.deepEqual(r.httpOverhead.map((h) => [h.concurrency, h.requests, h.failures]), [
      [1, 10, 0],
      [4, 10, 0],
    ]);
    for (const h of r.httpOverhead) assert.ok(h.p50Ms > 0 && h.p50Ms <= h.p95Ms);
    // JSON-friendly: survives a round trip unchanged.
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    const text = formatServeBench(r);
    assert.match(text, /concurrency 4/);
    assert.match(text, /server\/direct: throughput/);
    assert.match(text, /all identical/);
    assert.match(text, /HTTP path alone/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("benchServe rejects bad options before loading anything", async () => {
  await assert.rejects(benchServe({ requests: 0 }), RangeError);
  await assert.rejects(benchServe({ concurrency: [] }), RangeError);
  await assert.rejects(benchServe({ concurrency: [1, 2.5] }), RangeError);
  await assert.rejects(benchServe({ maxTokens: -1 }), RangeError);
});

Deno.test("benchRequest is fixed per index: the same messages and seed every time", () => {
  assert.deepEqual(benchRequest(3, 8), benchRequest(3, 8));
  assert.notEqual(benchRequest(3, 8).seed, benchRequest(4, 8).seed);
  assert.equal(benchRequest(0, 8).max_tokens, 8);
});
