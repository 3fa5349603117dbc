import assert from "node:assert/strict";
import { join } from "node:path";
import { createTinyModel } from "../core/model/tiny.ts";
import { cacheReport, formatCacheReport, removeDerived, seededBenchModel } from "./bench_cache.ts";

const SPEC = { preset: "tiny-qwen2" as const, hiddenSize: 32, numLayers: 1, vocabSize: 300 };

async function bytes(p: string) {
  return await Deno.readFile(p);
}

Deno.test("a seeded model's weights and tokenizer do not depend on its context length, so long links decode's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Independent oracle: two models built from scratch, differing only in the context length.
    await createTinyModel(join(dir, "a"), { ...SPEC, seed: 0, maxPositionEmbeddings: 64 });
    await createTinyModel(join(dir, "b"), { ...SPEC, seed: 0, maxPositionEmbeddings: 8192 });
    for (const f of ["model.safetensors", "tokenizer.json", "generation_config.json"]) {
      assert.deepEqual(await bytes(join(dir, "a", f)), await bytes(join(dir, "b", f)), f);
    }
    const json = async (p: string) => JSON.parse(await Deno.readTextFile(p));
    const ca = await json(join(dir, "a", "config.json"));
    const cb = await json(join(dir, "b", "config.json"));
    assert.deepEqual({ ...ca, max_position_embeddings: 8192 }, cb);
    const ta = await json(join(dir, "a", "tokenizer_config.json"));
    const tb = await json(join(dir, "b", "tokenizer_config.json"));
    assert.deepEqual({ ...ta, model_max_length: 8192 }, tb);

    const logs: string[] = [];
    const base = join(dir, "decode");
    const linked = await seededBenchModel(
      base,
      { ...SPEC, maxPositionEmbeddings: 64 },
      (l) => logs.push(l),
      { dir: join(dir, "long"), maxPositionEmbeddings: 8192 },
    );
    assert.equal(linked, join(dir, "long", "model"));
    const st = await Deno.stat(join(linked, "model.safetensors"));
    assert.equal(st.nlink, 2, "the weights are one file, linked");
    assert.deepEqual(
      await bytes(join(linked, "model.safetensors")),
      await bytes(join(dir, "b", "model.safetensors")),
    );
    assert.deepEqual(await json(join(linked, "config.json")), cb);
    assert.deepEqual(await json(join(linked, "tokenizer_config.json")), tb);
    // Built once: a second call reuses both folders.
    logs.length = 0;
    await seededBenchModel(base, SPEC, (l) => logs.push(l), {
      dir: join(dir, "long"),
      maxPositionEmbeddings: 8192,
    });
    assert.deepEqual(logs, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cacheReport() counts hard links once and sorts files into base weights and derived copies", async () => {
  const root = await Deno.makeTempDir();
  const put = async (p: string, n: number) => {
    await Deno.mkdir(join(root, p, ".."), { recursive: true });
    await Deno.writeFile(join(root, p), new Uint8Array(n));
  };
  try {
    await put("bench/m/model/model.safetensors", 1000);
    await put("bench/m/model/config.json", 10);
    await put("bench/m/model/onnx/model.onnx_data", 900);
    await put("bench/m/model/onnx/model.onnx", 5);
    await put("bench/m/model-f32.gguf", 800);
    // Weights derived from the checkpoint, linked into a graph.
    await put("bench/m/graphs/weights/k1/weights.bin", 300);
    await put("bench/m/graphs/weights/k1/index.json", 4);
    await put("bench/m/graphs/g1/model.onnx", 6);
    await put("bench/m/graphs/g1/model.onnx_data", 7);
    await Deno.link(
      join(root, "bench/m/graphs/weights/k1/weights.bin"),
      join(root, "bench/m/graphs/g1/weights.bin"),
    );
    // Generated weights (no checkpoint): base weights.
    await put("bench/q/graphs/weights/k2/weights.bin", 2000);
    await Deno.writeTextFile(
      join(root, "bench/q/graphs/weights/k2/source.json"),
      JSON.stringify({ source: "seeded-uniform:7" }),
    );
    await Deno.mkdir(join(root, "bench/q/graphs/g2"), { recursive: true });
    await Deno.link(
      join(root, "bench/q/graphs/weights/k2/weights.bin"),
      join(root, "bench/q/graphs/g2/weights.bin"),
    );
    await put("bench/q/graphs/g2/model.onnx", 8);
    await put("bench/d/gemv_chain.onnx_data", 50);
    const size = (await Deno.stat(join(root, "bench/q/graphs/weights/k2/source.json"))).size;
    const r = await cacheReport(root);
    assert.equal(r.byKind.checkpoint, 1000);
    assert.equal(r.byKind["generated-weights"], 2000);
    assert.equal(r.byKind["derived-weights"], 300);
    assert.equal(r.byKind["transformersjs-export"], 905);
    assert.equal(r.byKind.gguf, 800);
    assert.equal(r.byKind.probe, 50);
    assert.equal(r.byKind.graph, 4 + 6 + 7 + 8 + size);
    assert.equal(r.byKind.other, 10);
    assert.equal(r.baseWeightBytes, 3000);
    const total = 1000 + 10 + 905 + 800 + 300 + 4 + 13 + 2000 + size + 8 + 50;
    assert.equal(r.totalBytes, total);
    assert.equal(r.ratio, total / 3000);
    assert.match(formatCacheReport(r), /for 0\.00 GB of distinct base weights/);

    // Removing what a suite derived leaves the checkpoint; keep leaves everything.
    const derived = [
      join(root, "bench/m/model/onnx"),
      join(root, "bench/m/model-f32.gguf"),
      join(root, "bench/m/graphs"),
    ];
    await removeDerived(derived, true, () => {});
    assert.equal((await cacheReport(root)).totalBytes, total);
    const logs: string[] = [];
    await removeDerived(derived, false, (l) => logs.push(l));
    assert.equal(logs.length, 3);
    const after = await cacheReport(root);
    assert.equal(after.byKind.checkpoint, 1000);
    assert.equal(
      after.byKind.gguf + after.byKind["transformersjs-export"] + after.byKind["derived-weights"],
      0,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
