import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../errors.ts";
import { readDecoderConfig } from "./config.ts";
import { Engine } from "./engine.ts";
import { parsePrequantized, prequantizedDtype } from "./prequantized.ts";
import { createTinyModel, type TinyModelOptions } from "./tiny.ts";
import { loadWeights } from "./weights.ts";
import type { WeightFormat } from "./quantize.ts";
import { LINEAR, packedModel as packFrom, type Packing } from "./testing/prequant_pack.ts";

/** Sizes of a tiny model (the preset's defaults where absent). */
type Sizes = Partial<
  Pick<TinyModelOptions, "hiddenSize" | "intermediateSize" | "numHeads" | "numKvHeads" | "headDim">
>;

/** `root/packed` and `root/reference` from a seeded tiny model of `preset` (in `root/src`). */
async function packedModel(
  root: string,
  preset: "tiny-llama" | "tiny-qwen2",
  p: Packing,
  sizes: Sizes = {},
) {
  const src = join(root, "src");
  await Deno.mkdir(root, { recursive: true });
  await createTinyModel(src, { preset, seed: 3, ...sizes });
  return await packFrom(root, src, { ...p, zeroRow: true });
}

const CASES: Packing[] = [
  { method: "gptq", bits: 4, groupSize: 32 },
  { method: "gptq", bits: 4, groupSize: 32, actOrder: true },
  { method: "gptq", bits: 4, groupSize: 32, noGIdx: true },
  { method: "gptq", bits: 8, groupSize: -1, format: "gptq_v2" },
  { method: "awq", bits: 4, groupSize: 32 },
];

/**
 * Groups that are not the op's blocks as they are: short last groups (inputs 96 and 160 in
 * groups of 64), one group over 512 and 768 inputs (blocks of 256 repeating its scale and zero),
 * groups of 512 over 768 inputs (a short last group of two blocks), AWQ's short last group,
 * act-order groups split into blocks, one group over 96 and 160 inputs (blocks of 32).
 */
const SIZED: [Packing, Sizes][] = [
  [
    { method: "gptq", bits: 4, groupSize: 64, actOrder: true },
    { hiddenSize: 96, intermediateSize: 160, numHeads: 3, numKvHeads: 1, headDim: 32 },
  ],
  [
    { method: "gptq", bits: 8, groupSize: -1 },
    { hiddenSize: 512, intermediateSize: 768, numHeads: 8, numKvHeads: 2, headDim: 64 },
  ],
  [
    { method: "awq", bits: 4, groupSize: 512 },
    { hiddenSize: 512, intermediateSize: 768, numHeads: 8, numKvHeads: 2, headDim: 64 },
  ],
  [
    { method: "awq", bits: 4, groupSize: 64 },
    { hiddenSize: 96, intermediateSize: 160, numHeads: 3, numKvHeads: 1, headDim: 32 },
  ],
  [
    { method: "gptq", bits: 4, groupSize: 512, actOrder: true },
    { hiddenSize: 512, intermediateSize: 768, numHeads: 8, numKvHeads: 2, headDim: 64 },
  ],
  [
    { method: "gptq", bits: 4, groupSize: -1 },
    { hiddenSize: 96, intermediateSize: 160, numHeads: 3, numKvHeads: 1, headDim: 32 },
  ],
];

/** Every case with its sizes (the tiny preset's own for {@link CASES}). */
const ALL: [Packing, Sizes][] = [...CASES.map((c): [Packing, Sizes] => [c, {}]), ...SIZED];

Deno.test("GPTQ and AWQ layers load as the weights their levels stand for, exactly", async () => {
  for (const [p, sizes] of ALL) {
    const root = await Deno.makeTempDir({ prefix: "dramatis_prequant_" });
    try {
      const dirs = await packedModel(root, "tiny-qwen2", p, sizes);
      const config = await readDecoderConfig(dirs.packed);
      const got = await loadWeights(dirs.packed, config);
      const want = await loadWeights(dirs.reference, await readDecoderConfig(dirs.reference));
      assert.equal(got.size, want.size);
      let linear = 0;
      for (const [name, t] of want) {
        assert.deepEqual(got.get(name)!.shape, t.shape, name);
        assert.deepEqual(got.get(name)!.data, t.data, `${JSON.stringify(p)} ${name}`);
        if (LINEAR.test(name)) linear++;
      }
      assert.equal(linear, 7 * config.numLayers);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("an Engine runs a GPTQ/AWQ checkpoint on its own levels at its bits, and as floats at f32", async () => {
  const root = await Deno.makeTempDir({ prefix: "dramatis_prequant_" });
  try {
    const ids = [[1, 5, 9, 14, 3, 27, 8]];
    const logits = async (dir: string, dtype?: string | WeightFormat, accuracyLevel?: number) => {
      const e = await Engine.load(dir, {
        threads: 1,
        cacheDir: join(root, "cache"),
        dtype,
        accuracyLevel,
      });
      try {
        return (await e.forward(ids)).logits.data as Float32Array;
      } finally {
        await e.close();
      }
    };
    const worst = (a: Float32Array, b: Float32Array) => {
      let w = 0, top = 0;
      a.forEach((v, i) => {
        w = Math.max(w, Math.abs(v - b[i]));
        top = Math.max(top, Math.abs(b[i]));
      });
      return w / top;
    };
    for (const [i, [p, sizes]] of ALL.entries()) {
      const what = JSON.stringify(p);
      const dirs = await packedModel(join(root, `f${i}`), "tiny-llama", p, sizes);
      // f32: the dequantized weights exactly.
      const reference = await logits(dirs.reference, "f32");
      assert.ok(worst(await logits(dirs.packed, "f32"), reference) < 1e-6, what);
      // At the checkpoint's bits, MatMulNBits runs its levels and zeros (act-order through a
      // gather of the inputs). The reference here holds the embedding as the engine stores it
      // at those bits (the checkpoint's table is float, so the engine quantizes it): with float32
      // compute (accuracy level 0) the logits are the reference's. Quantizing the layers' floats
      // again, as the engine does a float checkpoint, is far off, so this fails if any layer
      // were requantized.
      const dtype = p.bits === 4 ? "int4" as const : "int8" as const;
      const q = await packedModel(
        join(root, `q${i}`),
        "tiny-llama",
        { ...p, tables: { dtype } },
        sizes,
      );
      const stored = await logits(q.reference, "f32");
      // (No dtype and accuracy level 0: the checkpoint's bits at float32 compute, the same.)
      const native = worst(await logits(q.packed, undefined, 0), stored);
      assert.ok(native < 1e-5, `${what}: ${native}`);
      const again = worst(await logits(dirs.reference, { dtype, accuracyLevel: 0 }), stored);
      assert.ok(again > 1e-3, `${what}: requantized ${again}`);
      // With no dtype asked for, the checkpoint's bits, at the default accuracy level.
      const plain = worst(await logits(dirs.packed), stored);
      assert.ok(plain < 0.05, `${what}: default ${plain}`);
    }
    // The zero points and input orders are base weights: in the shared weights file every graph
    // variant links, so another variant reads none of the layers again.
    const names: string[] = [];
    for await (const e of Deno.readDir(join(root, "cache", "weights"))) {
      const index = join(root, "cache", "weights", e.name, "index.json");
      names.push(...Object.keys(JSON.parse(await Deno.readTextFile(index))));
    }
    const layers = 7 * (await readDecoderConfig(join(root, "f0", "packed"))).numLayers;
    assert.ok(names.filter((n) => n.endsWith(".zero_points")).length >= layers * ALL.length);
    assert.ok(names.some((n) => n.endsWith(".order")), "act-order layers' input orders");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("quantization_config formats that do not load are refused naming the field and the fix", async () => {
  const where = "m/config.json";
  const refused = (qc: unknown, field: RegExp) => {
    assert.throws(
      () => parsePrequantized(qc, where),
      (e: Error) =>
        errorCode(e) === "E_WEIGHTS" && e.message.startsWith(where) && field.test(e.message) &&
        /--dtype int8 or int4/.test(e.message),
    );
  };
  refused({ quant_method: "bitsandbytes", load_in_4bit: true }, /quant_method is "bitsandbytes"/);
  refused({ quant_method: "gptq", bits: 3, group_size: 128 }, /bits is 3/);
  refused({ quant_method: "awq", bits: 8, group_size: 128 }, /bits is 8/);
  refused({ quant_method: "awq", bits: 4, group_size: 128, version: "gemv" }, /version is "gemv"/);
  refused({ quant_method: "gptq", bits: 4, group_size: 0 }, /group_size is 0/);
  refused(
    { quant_method: "gptq", bits: 4, group_size: 128, checkpoint_format: "marlin" },
    /checkpoint_format/,
  );
  assert.equal(parsePrequantized(undefined, where), undefined);
  const qc = prequantizedDtype;
  assert.equal(qc({ quant_method: "gptq", bits: 8, group_size: 128 }), "int8");
  assert.equal(qc({ quant_method: "awq", bits: 4, group_size: 32 }), "int4:32");
  assert.equal(qc({ quant_method: "bitsandbytes" }), undefined);
  assert.equal(prequantizedDtype(undefined), undefined);
  assert.equal(
    parsePrequantized({ quant_method: "GPTQ", bits: 4, group_size: 128 }, where)!.zeroOffset,
    1,
  );

  // An AutoGPTQ quantize_config.json stands in for a missing quantization_config.
  const alone = await Deno.makeTempDir({ prefix: "dramatis_prequant_" });
  try {
    const dirs = await packedModel(alone, "tiny-llama", CASES[0]);
    const path = join(dirs.packed, "config.json");
    const raw = JSON.parse(await Deno.readTextFile(path));
    const { quant_method: _, ...settings } = raw.quantization_config;
    delete raw.quantization_config;
    await Deno.writeTextFile(path, JSON.stringify(raw));
    const qcPath = join(dirs.packed, "quantize_config.json");
    await Deno.writeTextFile(qcPath, JSON.stringify(settings));
    const config = await readDecoderConfig(dirs.packed);
    const got = await loadWeights(dirs.packed, config);
    const want = await loadWeights(dirs.reference, config);
    for (const [name, t] of want) assert.deepEqual(got.get(name)!.data, t.data, name);
    await Deno.writeTextFile(qcPath, JSON.stringify({ ...settings, bits: 3 }));
    await assert.rejects(
      () => loadWeights(dirs.packed, config),
      (e: Error) => errorCode(e) === "E_WEIGHTS" && e.message.startsWith(qcPath),
    );
    // Without either file the packed layers cannot be read: the error says what is missing.
    await Deno.remove(qcPath);
    await assert.rejects(
      () => loadWeights(dirs.packed, config),
      (e: Error) =>
        errorCode(e) === "E_WEIGHTS" && /q_proj\.weight" is missing/.test(e.message) &&
        /GPTQ\/AWQ-packed.*quantize_config\.json/.test(e.message),
    );
  } finally {
    await Deno.remove(alone, { recursive: true });
  }

  // Packed tensors that disagree with the config: the error names the tensor and both shapes.
  const root = await Deno.makeTempDir({ prefix: "dramatis_prequant_" });
  try {
    const dirs = await packedModel(root, "tiny-llama", CASES[0]);
    const path = join(dirs.packed, "config.json");
    const raw = JSON.parse(await Deno.readTextFile(path));
    raw.quantization_config.group_size = 16;
    await Deno.writeTextFile(path, JSON.stringify(raw));
    await assert.rejects(
      async () => await loadWeights(dirs.packed, await readDecoderConfig(dirs.packed)),
      (e: Error) =>
        errorCode(e) === "E_WEIGHTS" && /q_proj\.qzeros" has shape \[2, 8\]/.test(e.message) &&
        /needs \[4, 8\]/.test(e.message),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
