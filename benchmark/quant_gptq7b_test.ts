import assert from "node:assert/strict";
import { join } from "node:path";
import { benchGptq } from "./quant_gptq7b.ts";
import { readModel } from "../core/onnx/deserialize.ts";

Deno.test("bench quant's GPTQ point at a small shape: loads on its own levels, first and cached", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_bench_gptq_" });
  try {
    const shape = {
      preset: "tiny-llama" as const,
      hiddenSize: 256,
      intermediateSize: 512,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 64,
      vocabSize: 1000,
      maxPositionEmbeddings: 512,
      tieWordEmbeddings: false,
    };
    const logs: string[] = [];
    const r = await benchGptq(
      root,
      { threads: 1, shape, keepCache: true, newTokens: 8 },
      (l) => logs.push(l),
    );
    assert.equal(r.error, undefined, String(r.error));
    // 2 layers of q, o (256×256), k, v (256→128), gate, up, down (256×512), norms; embed, lm_head.
    assert.equal(r.parameters, 2 * (2 * 65536 + 2 * 32768 + 3 * 131072 + 512) + 2 * 256000 + 256);
    assert.equal(r.new_tokens, 8);
    for (const v of [r.weight_bytes, r.checkpoint_bytes, r.first_load_peak_rss_bytes]) {
      assert.ok(Number.isFinite(v) && v > 0, JSON.stringify(r));
    }
    assert.ok(r.peak_rss_bytes > 0 && r.decode_tokens_per_second > 0, JSON.stringify(r));
    assert.ok(logs.some((l) => /writing the seeded GPTQ/.test(l)), logs.join("\n"));
    // Every linear layer runs on the checkpoint's levels: MatMulNBits with zero points.
    let graph: string | undefined;
    for await (const e of Deno.readDir(join(root, "graphs"))) {
      if (e.isDirectory && e.name !== "weights") graph = join(root, "graphs", e.name, "model.onnx");
    }
    const model = await readModel(graph!);
    const native = model.graph.nodes.filter((n) => n.opType === "MatMulNBits" && n.inputs[3]);
    assert.equal(native.length, 7 * 2);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
