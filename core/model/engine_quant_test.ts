import assert from "node:assert/strict";
import { join } from "node:path";
import type { Adapter } from "../contracts/adapter.ts";
import { OrtSession } from "../runtime/session.ts";
import type { WireTensor } from "../runtime/tensor.ts";
import { Prng } from "../util/prng.ts";
import { IdentityAdapter } from "../../plugins/hirpf/adapter.ts";
import { LoraAdapter } from "../../plugins/lora/lora_adapter.ts";
import { readDecoderConfig } from "./config.ts";
import { Engine } from "./engine.ts";
import { exportDecoder } from "./export.ts";
import { forwardPass } from "./generate.ts";
import { dequantizedWeights, type WeightFormat } from "./quantize.ts";
import { createTinyModel } from "./tiny.ts";
import { loadWeights } from "./weights.ts";

function randomize(adapter: Adapter, seed: number): void {
  const rng = new Prng(seed);
  for (const p of adapter.parameters()) {
    for (let i = 0; i < p.data.length; i++) p.data[i] = 0.1 * rng.normal();
  }
}

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
    randomize(identity, 8);
    const lora = LoraAdapter.forConfig(config, { r: 2 });
    randomize(lora, 9);
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
        identities: rows.map((r) => identities[r]),
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
      const got = await engine.forward(ids, { identities, edits, hiddenStates: true });
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
      const r = await engine.generate("Hello", { maxNewTokens: 3, identities: ["EXT_high"] });
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
