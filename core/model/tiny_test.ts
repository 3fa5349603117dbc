import assert from "node:assert/strict";
import { join } from "node:path";
import { createTinyModel, TINY_PRESETS, tinyConfigJson } from "./tiny.ts";
import { readDecoderConfig } from "./config.ts";
import { expectedWeightShapes, loadWeights } from "./weights.ts";
import { loadTokenizer } from "./tokenizer.ts";
import { f16ToF32, f32ToF16 } from "./safetensors.ts";
import { errorCode } from "../errors.ts";

async function filesOf(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(dir)) out.set(e.name, await Deno.readFile(join(dir, e.name)));
  return out;
}

Deno.test("createTinyModel() writes byte-identical files for the same seed", async () => {
  const root = await Deno.makeTempDir();
  await createTinyModel(join(root, "a"), { preset: "tiny-llama", seed: 7 });
  await createTinyModel(join(root, "b"), { preset: "tiny-llama", seed: 7 });
  await createTinyModel(join(root, "c"), { preset: "tiny-llama", seed: 8 });
  const [a, b, c] = await Promise.all(["a", "b", "c"].map((d) => filesOf(join(root, d))));
  assert.deepEqual([...a.keys()].sort(), [
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  for (const [name, bytes] of a) assert.deepEqual(b.get(name), bytes, name);
  assert.notDeepEqual(c.get("model.safetensors"), a.get("model.safetensors"));
  assert.deepEqual(c.get("tokenizer.json"), a.get("tokenizer.json"));
  await Deno.remove(root, { recursive: true });
});

Deno.test("createTinyModel() presets carry their family's features", async () => {
  const root = await Deno.makeTempDir();
  for (const preset of TINY_PRESETS) {
    const dir = join(root, preset);
    const info = await createTinyModel(dir, { preset, seed: 1 });
    const cfg = await readDecoderConfig(dir);
    assert.deepEqual(cfg.raw, info.config.raw);
    assert.equal(cfg.hiddenSize, 64);
    assert.equal(cfg.numLayers, 2);
    assert.ok(cfg.vocabSize <= 1024);
    const w = await loadWeights(dir, cfg);
    assert.equal(w.size, expectedWeightShapes(cfg).size);
    const norm = w.get("model.norm.weight")!.data;
    assert.ok(norm.every((x) => Math.abs(x - 1) < 0.3), "norm weights near 1");
    const tok = await loadTokenizer(dir);
    assert.equal(tok.vocabSize, cfg.vocabSize);
    assert.deepEqual([...tok.eosTokenIds].sort(), [...cfg.eosTokenIds].sort());
    assert.equal(tok.padTokenId, cfg.padTokenId);
    assert.equal(
      tok.decode(tok.encode("Where is the station?", { addSpecialTokens: false })),
      "Where is the station?",
    );
    const prompt = tok.applyChatTemplate([{ role: "user", content: "Hi" }], {
      addGenerationPrompt: true,
    });
    switch (preset) {
      case "tiny-llama":
        assert.equal(cfg.numKvHeads, 2);
        assert.equal(cfg.numHeads, 4);
        assert.equal(cfg.ropeScaling?.type, "llama3");
        assert.equal(cfg.tieWordEmbeddings, false);
        assert.equal(
          prompt,
          "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
        );
        assert.equal(tok.encode("Hi")[0], tok.bosTokenId);
        break;
      case "tiny-qwen3":
        assert.equal(cfg.qkNorm, true);
        assert.equal(cfg.tieWordEmbeddings, true);
        assert.equal(cfg.headDim, 32);
        assert.equal(w.has("lm_head.weight"), false);
        assert.equal(prompt, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
        assert.equal(tok.idToToken(tok.eosTokenIds[0]), "<|im_end|>");
        break;
      case "tiny-qwen2":
        assert.equal(cfg.attentionBias, true);
        assert.ok(w.has("model.layers.1.self_attn.v_proj.bias"));
        assert.equal(prompt, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
        break;
      case "tiny-mistral":
        assert.equal(cfg.numKvHeads, 1);
        assert.equal(prompt, "<s>[INST] Hi[/INST]");
        break;
    }
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("createTinyModel() honours size overrides and the storage dtype", async () => {
  const dir = await Deno.makeTempDir();
  const info = await createTinyModel(dir, {
    preset: "tiny-qwen2",
    seed: 3,
    hiddenSize: 32,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 1,
    intermediateSize: 48,
    vocabSize: 512,
    dtype: "F16",
  });
  assert.equal(info.config.headDim, 16);
  const cfg = await readDecoderConfig(dir);
  const w = await loadWeights(dir, cfg);
  assert.deepEqual(w.get("model.layers.0.mlp.up_proj.weight")!.shape, [48, 32]);
  assert.deepEqual(w.get("model.embed_tokens.weight")!.shape, [512, 32]);
  const emb = w.get("model.embed_tokens.weight")!.data;
  // Values stored as F16 come back exactly as their f16 rounding.
  assert.deepEqual(f16ToF32(f32ToF16(emb)), emb);
  const tok = await loadTokenizer(dir);
  assert.equal(tok.vocabSize, 512);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tinyConfigJson() rejects an unknown preset and bad sizes", () => {
  assert.throws(
    () => tinyConfigJson({ preset: "tiny-gpt" as never }),
    (e: Error) => errorCode(e) === "E_USAGE" && e.message.includes("tiny-llama, tiny-qwen3"),
  );
  assert.throws(() => tinyConfigJson({ preset: "tiny-llama", vocabSize: 100 }), /vocabSize is 100/);
  assert.throws(
    () => tinyConfigJson({ preset: "tiny-llama", hiddenSize: 30, numHeads: 4 }),
    /headDim is 7.5/,
  );
});
