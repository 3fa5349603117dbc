/**
 * Identity experts over a quantized base (QLoRA-style): the hirpf trainer keeps the frozen base in
 * int4 when asked (or when a GPTQ/AWQ checkpoint is its own default). Oracle: the same training on
 * the float32 model holding the int4 weights' dequantized values.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readDecoderConfig } from "../../core/model/config.ts";
import { dequantizedWeights } from "../../core/model/quantize.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { loadWeights } from "../../core/model/weights.ts";
import { writeHfModel } from "../../core/train/write_model.ts";
import { createHirpfTrainer, hirpfLosses } from "./trainer.ts";
import { loadHisConversations } from "./his_conversations.ts";

const DIALOGUES = new URL("./data/dialogues/", import.meta.url).pathname;

Deno.test("hirpf trains identity experts over an int4 base: the first evaluation follows the float run of the int4 weights", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hirpf_qlora_" });
  try {
    const model = join(dir, "model");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2, maxPositionEmbeddings: 1024 });
    const config = await readDecoderConfig(model);
    const deq = join(dir, "deq");
    const format = { dtype: "int4" as const, blockSize: 32 };
    await writeHfModel(
      model,
      config,
      dequantizedWeights(await loadWeights(model, config), format),
      deq,
    );
    const trainer = createHirpfTrainer({ progress: false, runner: "in-process" });
    const initialLoss = async (from: string, dtype: string) => {
      const r = await trainer.train({
        model: from,
        data: DIALOGUES,
        out: join(dir, `out-${dtype}-${from === model ? "m" : "d"}`),
        dtype,
        config: {
          steps: 1,
          r: 4,
          lr: 1e-3,
          warmup_steps: 0,
          batch_size: 2,
          micro_batch_size: 2,
          system_prompt: false,
          max_eval_examples: 4,
        },
      });
      return r.metrics.initial_eval_loss;
    };
    const q = await initialLoss(model, "int4:32");
    const f = await initialLoss(deq, "f32");
    const raw = await initialLoss(model, "f32");
    // The kernel's int8 activations (accuracy level 4) are the only difference from the float run
    // of the same weights; the raw float weights are further off.
    assert.ok(Math.abs(q - f) < 0.01 * f, `int4 ${q} vs dequantized ${f}`);
    assert.ok(Math.abs(q - raw) > Math.abs(q - f), `${q} ${f} ${raw}`);
    // The evaluation metric over the same bases, with and without the trained experts.
    const conversations = (await loadHisConversations(join(DIALOGUES, "test.json"), {
      systemPrompt: false,
    })).slice(0, 4);
    for (const adapter of [undefined, join(dir, "out-int4:32-m")]) {
      const [lq] = await hirpfLosses({
        model,
        adapter,
        dtype: "int4:32",
        conditions: [{ conversations }],
      });
      const [lf] = await hirpfLosses({
        model: deq,
        adapter,
        dtype: "f32",
        conditions: [{ conversations }],
      });
      // Measured 2e-6 (base) and 2.5e-4 (experts) relative; the raw float base is 1.2% off.
      assert.ok(
        Math.abs(lq.loss - lf.loss) < 0.002 * lf.loss,
        `${adapter}: ${lq.loss} vs ${lf.loss}`,
      );
      assert.equal(lq.tokens, lf.tokens);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
