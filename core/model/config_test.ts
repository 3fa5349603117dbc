import assert from "node:assert/strict";
import { join } from "node:path";
import { parseDecoderConfig, readDecoderConfig } from "./config.ts";
import { errorCode } from "../errors.ts";

// Field subsets of well-known public config.json files, typed from their model cards.
const LLAMA2_7B = {
  architectures: ["LlamaForCausalLM"],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: "silu",
  hidden_size: 4096,
  intermediate_size: 11008,
  max_position_embeddings: 4096,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 32,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  tie_word_embeddings: false,
  vocab_size: 32000,
};

const LLAMA32_1B = {
  architectures: ["LlamaForCausalLM"],
  attention_bias: false,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  head_dim: 64,
  hidden_act: "silu",
  hidden_size: 2048,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: "llama3",
  },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  vocab_size: 128256,
};

const MISTRAL_7B = {
  architectures: ["MistralForCausalLM"],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: "silu",
  hidden_size: 4096,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: "mistral",
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  vocab_size: 32000,
};

const QWEN25_05B = {
  architectures: ["Qwen2ForCausalLM"],
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: "silu",
  hidden_size: 896,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  model_type: "qwen2",
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  tie_word_embeddings: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

const QWEN3_06B = {
  architectures: ["Qwen3ForCausalLM"],
  attention_bias: false,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: "silu",
  hidden_size: 1024,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  model_type: "qwen3",
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  vocab_size: 151936,
};

const SMOLLM2_135M = {
  architectures: ["LlamaForCausalLM"],
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: "silu",
  hidden_size: 576,
  intermediate_size: 1536,
  max_position_embeddings: 8192,
  model_type: "llama",
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  pad_token_id: 2,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  tie_word_embeddings: true,
  vocab_size: 49152,
};

function throwsWith(fn: () => unknown, code: string, ...parts: string[]) {
  assert.throws(fn, (e: Error) => {
    assert.equal(errorCode(e), code);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
    return true;
  });
}

Deno.test("parseDecoderConfig() normalizes a Llama 2 config", () => {
  const c = parseDecoderConfig(LLAMA2_7B, "llama2.json");
  assert.equal(c.modelType, "llama");
  assert.equal(c.headDim, 128);
  assert.equal(c.numKvHeads, 32);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.ropeScaling, null);
  assert.equal(c.attentionBias, false);
  assert.equal(c.qkNorm, false);
  assert.deepEqual(c.eosTokenIds, [2]);
  assert.equal(c.padTokenId, null);
  assert.equal(c.raw.pretraining_tp, 1);
});

Deno.test("parseDecoderConfig() reads Llama 3.2 llama3 rope scaling and eos lists", () => {
  const c = parseDecoderConfig(LLAMA32_1B, "llama32.json");
  assert.deepEqual(c.ropeScaling, {
    type: "llama3",
    factor: 32,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositionEmbeddings: 8192,
  });
  assert.deepEqual(c.eosTokenIds, [128001, 128008, 128009]);
  assert.equal(c.numKvHeads, 8);
  assert.equal(c.tieWordEmbeddings, true);
  assert.equal(c.bosTokenId, 128000);
  // The older spelling `type` is accepted too.
  const old = { ...LLAMA32_1B, rope_scaling: { ...LLAMA32_1B.rope_scaling, type: "llama3" } };
  delete (old.rope_scaling as Record<string, unknown>).rope_type;
  assert.equal(parseDecoderConfig(old, "x").ropeScaling?.type, "llama3");
});

Deno.test("parseDecoderConfig() handles Mistral, Qwen2.5, Qwen3 and SmolLM", () => {
  const m = parseDecoderConfig(MISTRAL_7B, "m.json");
  assert.equal(m.modelType, "mistral");
  assert.equal(m.headDim, 128);
  assert.equal(m.rmsNormEps, 1e-5);

  const q2 = parseDecoderConfig(QWEN25_05B, "q2.json");
  assert.equal(q2.attentionBias, true, "qwen2 implies q/k/v bias");
  assert.equal(q2.headDim, 64);
  assert.equal(q2.tieWordEmbeddings, true);

  const q3 = parseDecoderConfig(QWEN3_06B, "q3.json");
  assert.equal(q3.qkNorm, true);
  assert.equal(q3.headDim, 128, "explicit head_dim wins over hidden/heads = 64");
  assert.equal(q3.attentionBias, false);

  const s = parseDecoderConfig(SMOLLM2_135M, "smol.json");
  assert.equal(s.headDim, 64);
  assert.equal(s.padTokenId, 2);
  assert.equal(s.ropeTheta, 100000);
});

Deno.test("parseDecoderConfig() rejects unsupported model types listing the supported ones", () => {
  throwsWith(
    () => parseDecoderConfig({ ...LLAMA2_7B, model_type: "gpt2" }, "cfg.json"),
    "E_MODEL_ARCH",
    "cfg.json",
    "model_type",
    '"gpt2"',
    "llama, mistral, qwen2, qwen3",
  );
  throwsWith(
    () =>
      parseDecoderConfig({ ...LLAMA2_7B, architectures: ["LlamaForSequenceClassification"] }, "c"),
    "E_MODEL_ARCH",
    "architectures[0]",
    "LlamaForSequenceClassification",
  );
  throwsWith(
    () => parseDecoderConfig({ ...LLAMA2_7B, rope_scaling: { type: "yarn", factor: 4 } }, "c"),
    "E_MODEL_ARCH",
    "yarn",
  );
  throwsWith(
    () => parseDecoderConfig({ ...LLAMA2_7B, hidden_act: "gelu" }, "c"),
    "E_MODEL_ARCH",
    "gelu",
  );
});

Deno.test("parseDecoderConfig() names the file, field and value of a bad field", () => {
  const { hidden_size: _, ...noHidden } = LLAMA2_7B;
  throwsWith(
    () => parseDecoderConfig(noHidden, "a/config.json"),
    "E_CONFIG",
    "a/config.json",
    "hidden_size",
    "missing",
  );
  throwsWith(
    () => parseDecoderConfig({ ...LLAMA2_7B, num_hidden_layers: -2 }, "b.json"),
    "E_CONFIG",
    "num_hidden_layers",
    "-2",
  );
  throwsWith(
    () => parseDecoderConfig({ ...LLAMA2_7B, num_key_value_heads: 5 }, "b.json"),
    "E_CONFIG",
    "num_key_value_heads 5",
  );
  throwsWith(
    () =>
      parseDecoderConfig(
        { ...LLAMA32_1B, rope_scaling: { ...LLAMA32_1B.rope_scaling, factor: "big" } },
        "b.json",
      ),
    "E_CONFIG",
    "rope_scaling.factor",
    '"big"',
  );
  throwsWith(() => parseDecoderConfig([1], "arr.json"), "E_CONFIG", "arr.json");
});

Deno.test("readDecoderConfig() names a directory without config.json", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(() => readDecoderConfig(dir), (e: Error) => {
    assert.equal(errorCode(e), "E_MODEL_DIR");
    assert.ok(e.message.includes(join(dir, "config.json")));
    return true;
  });
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(QWEN3_06B));
  assert.equal((await readDecoderConfig(dir)).modelType, "qwen3");
  await Deno.remove(dir, { recursive: true });
});
