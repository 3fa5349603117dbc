import { writeYesIndeedChats } from "./testing/fixtures.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readDecoderConfig } from "../../core/model/config.ts";
import { dequantizedWeights } from "../../core/model/quantize.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { loadWeights } from "../../core/model/weights.ts";
import { writeHfModel } from "../../core/train/write_model.ts";
import { createLoraTrainer } from "./trainer.ts";
import { packedModel } from "../../core/model/testing/prequant_pack.ts";
import { checkpointDtype } from "../../core/model/prequantized.ts";

const readRaw = async (dir: string) =>
  JSON.parse(await Deno.readTextFile(join(dir, "config.json")));

Deno.test("lora trainer over an int4 base (--dtype int4, QLoRA-style) trains: loss falls, first steps follow the f32 run of the dequantized weights", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qlora_" });
  try {
    const model = join(dir, "model");
    await createTinyModel(model, { preset: "tiny-llama", seed: 5 });
    const data = await writeYesIndeedChats(join(dir, "d.jsonl"));
    const trainer = createLoraTrainer({ progress: false, runner: "in-process" });
    const config = {
      batch_size: 4,
      eval_split: 0,
      threads: 1,
      r: 4,
      lora_alpha: 8,
      steps: 8,
      learning_rate: 0.05,
    };
    // The oracle: the same model with its weights replaced by their int4 dequantized values, in f32.
    const cfg = await readDecoderConfig(model);
    const deq = join(dir, "deq");
    const format = { dtype: "int4" as const, blockSize: 32, accuracyLevel: 0 };
    await writeHfModel(model, cfg, dequantizedWeights(await loadWeights(model, cfg), format), deq);
    const losses = async (dtype: string, from = model) => {
      const out: number[] = [];
      await trainer.train({
        model: from,
        data,
        out: join(dir, `${dtype}-${out.length}-${from === model ? "m" : "d"}`),
        config,
        dtype,
        onEvent: (e) => e.type === "step" && out.push(e.loss),
      });
      return out;
    };
    const q = await losses("int4:32");
    const f = await losses("f32", deq);
    const raw = await losses("f32");
    assert.equal(q.length, 8);
    assert.ok(q[7] < 0.8 * q[0], `int4 losses ${q}`);
    // Same data, same init: the int4 run follows the f32 run of the dequantized weights (the
    // kernel's int8 activations, accuracy_level 4, are the only difference; later steps drift
    // apart as the differences compound at this learning rate), not the raw f32 one.
    for (let i = 0; i < 3; i++) {
      assert.ok(
        Math.abs(q[i] - f[i]) < 0.01 * f[i],
        `step ${i}: int4 ${q[i]} vs dequantized ${f[i]}`,
      );
    }
    assert.ok(Math.abs(q[0] - raw[0]) > Math.abs(q[0] - f[0]), `${q[0]} ${f[0]} ${raw[0]}`);
    await Deno.stat(join(dir, "int4:32-0-m", "adapter_model.safetensors"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lora trainer on a GPTQ checkpoint with no dtype trains over its own 4-bit levels", async () => {
  const dir = await Deno.makeTempDir({ prefix: "qlora_gptq_" });
  try {
    const src = join(dir, "src");
    await createTinyModel(src, { preset: "tiny-llama", seed: 5 });
    // The reference holds the levels' float weights and the embedding as int4 stores it.
    const dirs = await packedModel(dir, src, {
      method: "gptq",
      bits: 4,
      groupSize: 32,
      actOrder: true,
      tables: { dtype: "int4" },
    });
    const data = await writeYesIndeedChats(join(dir, "d.jsonl"));
    const trainer = createLoraTrainer({ progress: false, runner: "in-process" });
    const config = { batch_size: 4, eval_split: 0, threads: 1, r: 4, lora_alpha: 8, steps: 2 };
    const run = async (model: string, dtype?: string, extra: Record<string, unknown> = {}) => {
      const losses: number[] = [];
      const logs: string[] = [];
      await trainer.train({
        model,
        data,
        out: join(
          dir,
          `out-${dtype ?? "default"}-${model === dirs.packed ? "p" : "r"}-${
            Object.keys(extra).join("")
          }`,
        ),
        config: { ...config, ...extra },
        dtype,
        onEvent: (e) => {
          if (e.type === "step") losses.push(e.loss);
          if (e.type === "log") logs.push(e.message);
        },
      });
      return { losses, logs };
    };
    const packed = await run(dirs.packed);
    assert.ok(
      packed.logs.some((l) => /pre-quantized: stored as int4:32/.test(l)),
      packed.logs.join("\n"),
    );
    const reference = await run(dirs.reference, "f32");
    assert.ok(
      Math.abs(packed.losses[0] - reference.losses[0]) < 0.01 * reference.losses[0],
      `${packed.losses} vs ${reference.losses}`,
    );
    // Full fine-tuning trains float32 weights: the dequantized levels, not the int4 base.
    const full = await run(dirs.packed, undefined, { trainable: "all" });
    assert.ok(!full.logs.some((l) => /pre-quantized|stored as/.test(l)), full.logs.join("\n"));
    assert.equal(full.losses.length, 2);
    // The model it writes is float32: no quantization settings come along, so it loads as floats.
    const written = join(dir, "out-default-p-trainable");
    const cfg = JSON.parse(await Deno.readTextFile(join(written, "config.json")));
    assert.equal(cfg.quantization_config, undefined);
    assert.equal(await checkpointDtype(written, cfg), undefined);
    assert.equal(await checkpointDtype(dirs.packed, await readRaw(dirs.packed)), "int4:32");
    // Quantization settings over float weights (no packed layers) do not count either.
    assert.equal(await checkpointDtype(dirs.reference, await readRaw(dirs.packed)), undefined);
    // Asking for a quantized base and full fine-tuning at once names the fix.
    await assert.rejects(
      () => run(dirs.packed, "int4", { trainable: "all" }),
      (e: Error & { code?: string }) =>
        e.code === "E_USAGE" && /--dtype f32 \(or none\), or train an adapter/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
