import assert from "node:assert/strict";
import { join } from "node:path";
import { readDecoderConfig } from "../../core/model/config.ts";
import { Engine } from "../../core/model/engine.ts";
import { exportForTransformersJs } from "../../core/model/export.ts";
import { createTinyModel, type TinyPreset } from "../../core/model/tiny.ts";
import { loadWeights } from "../../core/model/weights.ts";

for (const preset of ["tiny-llama", "tiny-qwen3"] as TinyPreset[]) {
  Deno.test(`transformers.js generate() on our ${preset} export returns the same greedy tokens as Engine`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const model = join(dir, "m");
      await createTinyModel(model, { preset, seed: 5 });
      const config = await readDecoderConfig(model);
      await exportForTransformersJs(model, config, await loadWeights(model, config));

      const engine = await Engine.load(model, { cacheDir: join(dir, "graphs") });
      const prompt = engine.tokenizer.encode("The lighthouse keeper said");
      const ours = await engine.generate({ inputIds: [prompt] }, {
        maxNewTokens: 12,
        temperature: 0,
        eosTokenIds: [],
      });
      await engine.close();

      const { AutoModelForCausalLM, Tensor, env } = await import("@huggingface/transformers");
      env.allowRemoteModels = false;
      const tjs = await AutoModelForCausalLM.from_pretrained(model, {
        dtype: "fp32",
        device: "cpu",
      });
      const out = await tjs.generate({
        input_ids: new Tensor("int64", BigInt64Array.from(prompt, BigInt), [1, prompt.length]),
        attention_mask: new Tensor("int64", new BigInt64Array(prompt.length).fill(1n), [
          1,
          prompt.length,
        ]),
        max_new_tokens: 12,
        min_new_tokens: 12,
        do_sample: false,
      }) as { tolist(): bigint[][] };
      await tjs.dispose();
      const theirs = out.tolist()[0].map(Number).slice(prompt.length);
      assert.equal(theirs.length, 12);
      assert.deepEqual(ours.completions[0].tokens, theirs);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
