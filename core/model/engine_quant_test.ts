import { randomizeParameters } from "./testing/adapters.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeModel } from "../onnx/deserialize.ts";
import { OrtSession } from "../runtime/session.ts";
import type { WireTensor } from "../runtime/tensor.ts";
import { IdentityAdapter } from "../../plugins/hirpf/adapter.ts";
import { LoraAdapter } from "../../plugins/lora/lora_adapter.ts";
import { readDecoderConfig } from "./config.ts";
import { Engine } from "./engine.ts";
import { exportDecoder } from "./export.ts";
import { forwardPass } from "./generate.ts";
import { dequantizedWeights, type WeightFormat } from "./quantize.ts";
import { createTinyModel, seededWeightSource } from "./tiny.ts";
import { isStreamed, loadWeights, streamWeights } from "./weights.ts";

function maxRelErr(got: Float32Array, want: Float32Array): number {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]) / scale);
  return m;
}

Deno.test("Engine.load({ dtype }) runs LoRA, identity experts and steering on a quantized base", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_quant_" });
  const sessions: OrtSession[] = [];
  const engines: Engine[] = [];
  try {
    const model = join(root, "m");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    const config = await readDecoderConfig(model);
    const identity = IdentityAdapter.create(config, { r: 2, seed: 4 });
    randomizeParameters(identity, 8);
    const lora = LoraAdapter.forConfig(config, { r: 2 });
    randomizeParameters(lora, 9);
    const adapters = [identity, lora];
    const ids = [[5, 9, 12, 40, 7, 3], [8, 2, 11]];
    const identities = [["EXT_high"], ["AGR_low", "Doctor"]];
    const vector = Float32Array.from({ length: config.hiddenSize }, (_, i) => Math.sin(i));
    const edits = [
      { block: 0, type: "add" as const, vector, coefficient: 1.5, positions: "all" as const },
    ];
    const masks = (rows: readonly number[]) => {
      const feeds: Record<string, WireTensor> = {};
      const m = identity.runtimeInputs({
        batchSize: rows.length,
        extensions: { identities: rows.map((r) => identities[r]) },
      });
      for (const [n, t] of Object.entries(m)) {
        feeds[n] = { dtype: "float32", dims: [...t.shape], data: t.data } as WireTensor;
      }
      return feeds;
    };
    const weights = await loadWeights(model, config);
    for (
      const format of [
        { dtype: "int4", blockSize: 32, accuracyLevel: 0 },
        { dtype: "int8", blockSize: 128, accuracyLevel: 0 },
        { dtype: "f16" },
      ] as WeightFormat[]
    ) {
      const engine = await Engine.load(model, {
        dtype: format,
        adapters,
        steering: true,
        cacheDir: join(root, "cache"),
        threads: 1,
      });
      engines.push(engine);
      // The cached graph lists its largest quantized product first, for onnxruntime's repacking.
      const first = decodeModel(await Deno.readFile(engine.graphPath), { external: "defer" })
        .graph.nodes[0];
      assert.equal(first.opType === "MatMulNBits", format.dtype !== "f16", format.dtype);
      // Oracle: a float32 graph of the dequantized weights with the same adapters and edits.
      const dir = join(root, `ref_${format.dtype}`);
      await exportDecoder(config, dequantizedWeights(weights, format), dir, {
        adapters,
        bakeParameters: true,
        steering: true,
        kvCache: "resident",
        fused: true,
      });
      const oracle = await OrtSession.create(join(dir, "model.onnx"), { intraOpThreads: 1 });
      sessions.push(oracle);
      const got = await engine.forward(ids, {
        extensions: identities.map((i) => ({ identities: i })),
        edits,
        hiddenStates: true,
      });
      const want = await forwardPass({ ...engine.decoder, session: oracle }, ids, {
        edits,
        hiddenStates: true,
        runtimeInputs: masks,
      });
      const err = maxRelErr(
        got.logits.data as Float32Array,
        want.logits.data as Float32Array,
      );
      assert.ok(err < 1e-4, `${format.dtype}: logits differ by ${err} of their scale`);
      const r = await engine.generate("Hello", {
        maxNewTokens: 3,
        extensions: { identities: ["EXT_high"] },
      });
      assert.ok(r.completions[0].tokens.length > 0);
    }
    // Every dtype is its own cached graph.
    assert.equal(new Set(engines.map((e) => e.graphPath)).size, engines.length);
  } finally {
    for (const e of engines) await e.close();
    for (const s of sessions) await s.release();
    await Deno.remove(root, { recursive: true });
  }
});

/** Bytes on disk under `dir`, each file (inode) counted once however many links it has. */
async function diskBytes(dir: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile) {
        const st = await Deno.stat(p);
        if (st.ino !== null && seen.has(st.ino)) continue;
        if (st.ino !== null) seen.add(st.ino);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}

Deno.test("graph variants of one model and dtype share one weights file on disk", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_shared_" });
  const engines: Engine[] = [];
  try {
    const model = join(root, "m");
    await createTinyModel(model, {
      preset: "tiny-llama",
      seed: 3,
      hiddenSize: 256,
      intermediateSize: 768,
      numLayers: 4,
      maxPositionEmbeddings: 128,
    });
    const config = await readDecoderConfig(model);
    for (const dtype of ["f32", "int4"]) {
      const cache = join(root, `cache_${dtype}`);
      const identity = IdentityAdapter.create(config, { r: 2, seed: 4 });
      const lora = LoraAdapter.forConfig(config, { r: 2 });
      randomizeParameters(lora, 1);
      const variants = [{}, { steering: true }, { adapters: [identity] }, {
        adapters: [lora],
        steering: true,
      }];
      const outputs: number[][] = [];
      for (const v of variants) {
        const e = await Engine.load(model, { ...v, dtype, cacheDir: cache, threads: 1 });
        engines.push(e);
        outputs.push(
          (await e.generate("Hello", { maxNewTokens: 4, temperature: 0 })).completions[0].tokens,
        );
      }
      // The plain variant and the steering variant compute the same thing.
      assert.deepEqual(outputs[1], outputs[0]);
      const weightsDirs = [...Deno.readDirSync(join(cache, "weights"))];
      assert.equal(weightsDirs.length, 1, "one weights folder per model and dtype");
      const shared = (await Deno.stat(join(cache, "weights", weightsDirs[0].name, "weights.bin")))
        .size;
      const total = await diskBytes(cache);
      const own = async (e: Engine) => (await Deno.stat(`${e.graphPath}_data`)).size;
      const mine = engines.slice(-variants.length);
      for (const e of mine) {
        const linked = await Deno.stat(join(e.graphPath, "..", "weights.bin"));
        assert.equal(linked.size, shared);
        assert.equal(linked.nlink, variants.length + 1, "weights.bin is hard-linked, not copied");
      }
      // Without adapters a variant's own data is only the rope tables (two 64 KiB-aligned slots).
      assert.ok((await own(mine[0])) + (await own(mine[1])) <= 4 * 65536);
      // Adapter parameters are each variant's own; the base weights are on disk once.
      const adapterBytes = (await own(mine[2])) + (await own(mine[3]));
      assert.ok(
        total <= 1.1 * shared + adapterBytes,
        `${dtype}: ${variants.length} variants take ${total} bytes; the weights are ${shared}, ` +
          `adapter data ${adapterBytes}`,
      );
    }
  } finally {
    for (const e of engines) await e.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("streamWeights() reads a tensor on each access and keeps none; same values as loadWeights()", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_stream_" });
  try {
    await createTinyModel(root, { preset: "tiny-qwen3", seed: 5, dtype: "BF16" });
    const config = await readDecoderConfig(root);
    const eager = await loadWeights(root, config);
    const { weights, close } = await streamWeights(root, config);
    try {
      assert.deepEqual([...weights.keys()], [...eager.keys()]);
      for (const [name, t] of eager) {
        const w = weights.get(name)!;
        assert.ok(isStreamed(w));
        const a = w.data;
        assert.notEqual(w.data, a, "a second access reads again (nothing cached)");
        assert.deepEqual(a, t.data, name);
      }
    } finally {
      close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Engine.load({ weightSource }) exports seeded int4 weights generated tensor by tensor (no safetensors), keyed by the source", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_seeded_" });
  try {
    const model = join(root, "m");
    const info = await createTinyModel(model, {
      preset: "tiny-qwen2",
      hiddenSize: 64,
      writeWeights: false,
    });
    assert.ok(!info.files.includes("model.safetensors"));
    await assert.rejects(Deno.stat(join(model, "model.safetensors")));
    const config = await readDecoderConfig(model);
    // The source's values: deterministic per seed and tensor, generated on each read.
    const { weights } = await seededWeightSource(3).open(config);
    const q = weights.get("model.layers.0.self_attn.q_proj.weight")!;
    assert.ok(isStreamed(q));
    assert.deepEqual(q.data, q.data);
    const other = (await seededWeightSource(4).open(config)).weights;
    assert.notDeepEqual(other.get("model.layers.0.self_attn.q_proj.weight")!.data, q.data);
    assert.ok(weights.get("model.norm.weight")!.data.every((v) => Math.abs(v - 1) < 0.1));

    const cacheDir = join(root, "graphs");
    const ids = { inputIds: [[5, 9, 40, 17]] };
    const run = async (seed: number) => {
      const engine = await Engine.load(model, {
        cacheDir,
        dtype: "int4",
        weightSource: seededWeightSource(seed),
        threads: 1,
      });
      try {
        const r = await engine.generate(ids, { maxNewTokens: 4, eosTokenIds: [] });
        return { tokens: r.completions[0].tokens, graph: engine.graphPath };
      } finally {
        await engine.close();
      }
    };
    const a = await run(3);
    const again = await run(3);
    const b = await run(4);
    assert.equal(a.tokens.length, 4);
    assert.equal(again.graph, a.graph, "the same source reuses its cached graph");
    assert.deepEqual(again.tokens, a.tokens);
    assert.notEqual(b.graph, a.graph, "another seed is another graph");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
