/**
 * Tiny models in Hugging Face layout with seeded random weights: test fixtures and the default
 * model of `deno task model new <dir> --preset <name> --seed N`. Each preset mirrors one family's
 * quirks (tiny-llama: GQA + llama3 rope scaling; tiny-qwen3: q/k norm, explicit head_dim, tied
 * embeddings; tiny-qwen2: q/k/v bias; tiny-mistral: multi-query attention) with a byte-level BPE
 * tokenizer trained on `datasets/corpus/` and a family-style chat template. The same options give
 * byte-identical files.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../errors.ts";
import { writeDirAtomic, writeFileAtomic, writeJsonAtomic } from "../util/atomic.ts";
import { Prng } from "../util/prng.ts";
import { buildTokenizerJson, readCorpus, trainByteLevelBpe, type TrainedBpe } from "./bpe.ts";
import { type DecoderConfig, parseDecoderConfig } from "./config.ts";
import { f32ToBf16, f32ToF16, type RawTensor, writeSafetensors } from "./safetensors.ts";
import { expectedWeightShapes, type StreamedWeights, type WeightTensor } from "./weights.ts";

/** The tiny model presets. */
export const TINY_PRESETS = ["tiny-llama", "tiny-qwen3", "tiny-qwen2", "tiny-mistral"] as const;

/** A tiny model preset name. */
export type TinyPreset = typeof TINY_PRESETS[number];

/** Options of {@link createTinyModel}; sizes override the preset. */
export interface TinyModelOptions {
  /** Which family to mimic. */
  preset: TinyPreset;
  /**
   * Write model.safetensors (default true). False writes config, tokenizer and chat template
   * only, for models whose weights come from {@link seededWeightSource} (a 7B shape).
   */
  writeWeights?: boolean;
  /** Weight seed (default 0). */
  seed?: number;
  /** Model width (default 64). */
  hiddenSize?: number;
  /** MLP width (default 128). */
  intermediateSize?: number;
  /** Decoder blocks (default 2). */
  numLayers?: number;
  /** Query heads (default 4). */
  numHeads?: number;
  /** Key/value heads (preset default: 2, or 1 for tiny-mistral). */
  numKvHeads?: number;
  /** Per-head size (default hiddenSize / numHeads; tiny-qwen3: 32). */
  headDim?: number;
  /** Total token ids, BPE tokens plus 8 special / reserved slots (default 1024, min 264). */
  vocabSize?: number;
  /** Context length written to config.json (default 4096). */
  maxPositionEmbeddings?: number;
  /** Share embedding and lm_head (preset default; true for tiny-qwen3). */
  tieWordEmbeddings?: boolean;
  /** Storage dtype of model.safetensors (default F32). */
  dtype?: "F32" | "F16" | "BF16";
  /**
   * Texts the byte-level BPE tokenizer is trained on (default: the bundled English corpus in
   * `datasets/corpus/`). A model for a small language (the quickstart's persona world) gets whole
   * words as tokens this way.
   */
  corpus?: string[];
}

/** What {@link createTinyModel} wrote. */
export interface TinyModelInfo {
  /** The directory written. */
  dir: string;
  /** The parsed config of the new model. */
  config: DecoderConfig;
  /** File names written, in order. */
  files: string[];
}

/** Token-id slots after the BPE tokens: the preset's special tokens, then reserved ones. */
const SPECIAL_SLOTS = 8;

interface PresetSpec {
  modelType: DecoderConfig["modelType"];
  architecture: string;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  ropeTheta: number;
  ropeScaling: Record<string, unknown> | null;
  rmsNormEps: number;
  tie: boolean;
  specials: string[];
  bos: string | null;
  /** Tokens that end generation; the first is the tokenizer's eos_token. */
  eos: string[];
  pad: string;
  prependBos: boolean;
  tokenizerClass: string;
  chatTemplate: string;
}

const LLAMA3_TEMPLATE = `{{- bos_token }}
{%- for message in messages %}
{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}`;

const CHATML_TEMPLATE = `{%- for message in messages %}
{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
{{- '<|im_start|>assistant\\n' }}
{%- endif %}`;

const MISTRAL_TEMPLATE = `{%- if messages[0]['role'] == 'system' %}
{%- set system = messages[0]['content'] + '\\n\\n' %}
{%- set rest = messages[1:] %}
{%- else %}
{%- set system = '' %}
{%- set rest = messages %}
{%- endif %}
{{- bos_token }}
{%- for message in rest %}
{%- if message['role'] == 'user' %}
{%- if loop.first %}
{{- '[INST] ' + system + message['content'] + '[/INST]' }}
{%- else %}
{{- '[INST] ' + message['content'] + '[/INST]' }}
{%- endif %}
{%- else %}
{{- ' ' + message['content'] + eos_token }}
{%- endif %}
{%- endfor %}`;

const PRESETS: Record<TinyPreset, PresetSpec> = {
  "tiny-llama": {
    modelType: "llama",
    architecture: "LlamaForCausalLM",
    hiddenSize: 64,
    intermediateSize: 128,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 16,
    ropeTheta: 500000,
    // With head_dim 16 these bands keep, blend and divide different frequencies.
    ropeScaling: {
      rope_type: "llama3",
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 64,
    },
    rmsNormEps: 1e-5,
    tie: false,
    specials: [
      "<|begin_of_text|>",
      "<|end_of_text|>",
      "<|start_header_id|>",
      "<|end_header_id|>",
      "<|eot_id|>",
      "<|finetune_right_pad_id|>",
    ],
    bos: "<|begin_of_text|>",
    eos: ["<|eot_id|>", "<|end_of_text|>"],
    pad: "<|finetune_right_pad_id|>",
    prependBos: true,
    tokenizerClass: "PreTrainedTokenizerFast",
    chatTemplate: LLAMA3_TEMPLATE,
  },
  "tiny-qwen3": {
    modelType: "qwen3",
    architecture: "Qwen3ForCausalLM",
    hiddenSize: 64,
    intermediateSize: 128,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 32,
    ropeTheta: 1000000,
    ropeScaling: null,
    rmsNormEps: 1e-6,
    tie: true,
    specials: ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"],
    bos: null,
    eos: ["<|im_end|>", "<|endoftext|>"],
    pad: "<|endoftext|>",
    prependBos: false,
    tokenizerClass: "Qwen2Tokenizer",
    chatTemplate: CHATML_TEMPLATE,
  },
  "tiny-qwen2": {
    modelType: "qwen2",
    architecture: "Qwen2ForCausalLM",
    hiddenSize: 64,
    intermediateSize: 128,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 16,
    ropeTheta: 1000000,
    ropeScaling: null,
    rmsNormEps: 1e-6,
    tie: false,
    specials: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    bos: null,
    eos: ["<|im_end|>", "<|endoftext|>"],
    pad: "<|endoftext|>",
    prependBos: false,
    tokenizerClass: "Qwen2Tokenizer",
    chatTemplate: CHATML_TEMPLATE,
  },
  "tiny-mistral": {
    modelType: "mistral",
    architecture: "MistralForCausalLM",
    hiddenSize: 64,
    intermediateSize: 128,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 1,
    headDim: 16,
    ropeTheta: 10000,
    ropeScaling: null,
    rmsNormEps: 1e-5,
    tie: false,
    specials: ["<s>", "</s>", "[INST]", "[/INST]"],
    bos: "<s>",
    eos: ["</s>"],
    pad: "</s>",
    prependBos: true,
    tokenizerClass: "PreTrainedTokenizerFast",
    chatTemplate: MISTRAL_TEMPLATE,
  },
};

const bpeCache = new Map<number, Promise<TrainedBpe>>();

/** Trains (once per process and size) the corpus BPE with `size` tokens. */
function corpusBpe(size: number): Promise<TrainedBpe> {
  let p = bpeCache.get(size);
  if (!p) {
    p = readCorpus().then((texts) => trainByteLevelBpe(texts, { vocabSize: size }));
    bpeCache.set(size, p);
  }
  return p;
}

function checkSize(name: string, value: unknown, min = 1): number {
  if (!Number.isInteger(value) || (value as number) < min) {
    throw withCode(
      new RangeError(`${name} is ${JSON.stringify(value)}; pass a whole number >= ${min}`),
      "E_USAGE",
    );
  }
  return value as number;
}

/**
 * The config.json object a preset with overrides produces.
 *
 * @example
 * ```ts
 * import { tinyConfigJson } from "./tiny.ts";
 * tinyConfigJson({ preset: "tiny-qwen3" }).head_dim; // 32
 * ```
 */
export function tinyConfigJson(options: TinyModelOptions): Record<string, unknown> {
  return resolvePreset(options).config;
}

function resolvePreset(
  options: TinyModelOptions,
): {
  config: Record<string, unknown>;
  spec: PresetSpec;
  specialTokens: string[];
  vocabSize: number;
} {
  const spec = PRESETS[options.preset];
  if (!spec) {
    throw withCode(
      new RangeError(
        `preset is ${JSON.stringify(options.preset)}; choose one of ${TINY_PRESETS.join(", ")}`,
      ),
      "E_USAGE",
    );
  }
  const vocabSize = checkSize("vocabSize", options.vocabSize ?? 1024, 256 + SPECIAL_SLOTS);
  const hiddenSize = checkSize("hiddenSize", options.hiddenSize ?? spec.hiddenSize);
  const numHeads = checkSize("numHeads", options.numHeads ?? spec.numHeads);
  const numKvHeads = checkSize("numKvHeads", options.numKvHeads ?? spec.numKvHeads);
  const headDim = checkSize(
    "headDim",
    options.headDim ?? (spec.modelType === "qwen3" ? spec.headDim : hiddenSize / numHeads),
    2,
  );
  const specialTokens = spec.specials.slice();
  for (let k = 0; specialTokens.length < SPECIAL_SLOTS; k++) {
    specialTokens.push(`<|reserved_special_token_${k}|>`);
  }
  const idOf = (t: string) => vocabSize - SPECIAL_SLOTS + specialTokens.indexOf(t);
  const eosIds = spec.eos.map(idOf);
  const config: Record<string, unknown> = {
    architectures: [spec.architecture],
    model_type: spec.modelType,
    vocab_size: vocabSize,
    hidden_size: hiddenSize,
    intermediate_size: checkSize(
      "intermediateSize",
      options.intermediateSize ?? spec.intermediateSize,
    ),
    num_hidden_layers: checkSize("numLayers", options.numLayers ?? spec.numLayers),
    num_attention_heads: numHeads,
    num_key_value_heads: numKvHeads,
    // Always explicit: transformers.js sizes its KV cache from head_dim.
    head_dim: headDim,
    hidden_act: "silu",
    max_position_embeddings: checkSize(
      "maxPositionEmbeddings",
      options.maxPositionEmbeddings ?? 4096,
    ),
    rms_norm_eps: spec.rmsNormEps,
    rope_theta: spec.ropeTheta,
    rope_scaling: spec.ropeScaling,
    tie_word_embeddings: options.tieWordEmbeddings ?? spec.tie,
    ...(spec.modelType === "qwen2" ? { use_sliding_window: false, sliding_window: null } : {
      attention_bias: false,
    }),
    ...(spec.modelType === "llama" ? { mlp_bias: false } : {}),
    ...(spec.modelType === "mistral" ? { sliding_window: null } : {}),
    bos_token_id: spec.bos ? idOf(spec.bos) : null,
    eos_token_id: eosIds.length === 1 ? eosIds[0] : eosIds,
    pad_token_id: idOf(spec.pad),
    initializer_range: 0.02,
    torch_dtype: { F32: "float32", F16: "float16", BF16: "bfloat16" }[options.dtype ?? "F32"],
    use_cache: true,
  };
  return { config, spec, specialTokens, vocabSize };
}

/**
 * Seeded weights for a config: linear layers N(0, 1/fan_in), embeddings and lm_head N(0, 0.3²)
 * (wider than the usual 0.02 so tiny models give peaked, non-uniform next-token distributions),
 * norm weights 1 + N(0, 0.05²), biases N(0, 0.1²).
 *
 * @example
 * ```ts
 * import { tinyWeights } from "./tiny.ts";
 * // const w = tinyWeights(config, 42); // Map name → { shape, data: Float32Array }
 * ```
 */
export function tinyWeights(
  config: DecoderConfig,
  seed: number,
): Map<string, { shape: number[]; data: Float32Array }> {
  const rng = new Prng(seed);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of expectedWeightShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    let mean = 0, std: number;
    if (name.endsWith("norm.weight")) [mean, std] = [1, 0.05];
    else if (name.endsWith(".bias")) std = 0.1;
    else if (name === "model.embed_tokens.weight" || name === "lm_head.weight") std = 0.3;
    else std = 1 / Math.sqrt(shape[1]);
    for (let i = 0; i < n; i++) data[i] = mean + std * rng.normal();
    out.set(name, { shape, data });
  }
  return out;
}

/**
 * Writes a complete tiny model directory: config.json, generation_config.json,
 * model.safetensors, tokenizer.json and tokenizer_config.json (with a chat template).
 *
 * @example
 * ```ts
 * import { createTinyModel } from "./tiny.ts";
 * const info = await createTinyModel("/tmp/tiny-llama", { preset: "tiny-llama", seed: 1 });
 * console.log(info.files, info.config.numLayers);
 * ```
 */
export async function createTinyModel(
  dir: string,
  options: TinyModelOptions,
): Promise<TinyModelInfo> {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) {
    throw withCode(new RangeError(`seed is ${seed}; pass a whole number >= 0`), "E_USAGE");
  }
  const { config: json, spec, specialTokens, vocabSize } = resolvePreset(options);
  const config = parseDecoderConfig(json, join(dir, "config.json"));

  const bpeSize = vocabSize - SPECIAL_SLOTS;
  const trained = options.corpus
    ? await trainByteLevelBpe(options.corpus, { vocabSize: bpeSize })
    : await corpusBpe(bpeSize);
  // A corpus too small for the requested size leaves gaps; fill them with more reserved tokens.
  const tokens = trained.tokens.slice();
  let fill = specialTokens.length - spec.specials.length;
  while (tokens.length < bpeSize) tokens.push(`<|reserved_special_token_${fill++}|>`);
  const tokenizerJson = buildTokenizerJson({ tokens, merges: trained.merges }, {
    specialTokens,
    prependToken: spec.prependBos && spec.bos ? spec.bos : undefined,
  });
  const idOf = (t: string) => bpeSize + specialTokens.indexOf(t);
  const addedDecoder: Record<string, unknown> = {};
  for (const t of specialTokens) {
    addedDecoder[String(idOf(t))] = {
      content: t,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: true,
    };
  }
  const tokenizerConfig = {
    add_bos_token: spec.prependBos,
    add_eos_token: false,
    added_tokens_decoder: addedDecoder,
    bos_token: spec.bos,
    chat_template: spec.chatTemplate,
    clean_up_tokenization_spaces: false,
    eos_token: spec.eos[0],
    model_max_length: json.max_position_embeddings,
    pad_token: spec.pad,
    tokenizer_class: spec.tokenizerClass,
    unk_token: null,
  };
  const eos = spec.eos.map(idOf);
  const generationConfig = {
    bos_token_id: spec.bos ? idOf(spec.bos) : null,
    eos_token_id: eos.length === 1 ? eos[0] : eos,
    pad_token_id: idOf(spec.pad),
  };

  return await writeTinyModelDir(dir, {
    config,
    configJson: json,
    generationConfig,
    tokenizerJson: JSON.stringify(tokenizerJson) + "\n",
    tokenizerConfig,
    seed,
    dtype: options.dtype ?? "F32",
    writeWeights: options.writeWeights ?? true,
  });
}

/** What {@link writeTinyModelDir} writes besides the seeded weights. */
export interface TinyModelFiles {
  config: DecoderConfig;
  configJson: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
  /** tokenizer.json, as text. */
  tokenizerJson: string;
  tokenizerConfig: Record<string, unknown>;
  seed: number;
  dtype: "F32" | "F16" | "BF16";
  /** Write model.safetensors (default true). */
  writeWeights?: boolean;
}

/**
 * Writes a model folder in HF layout with seeded weights ({@link tinyWeights}) stored in `dtype`.
 * The whole folder appears at once (written beside it, then renamed): a run killed midway leaves
 * no half-made model for a later run to reuse.
 */
export async function writeTinyModelDir(
  dir: string,
  files: TinyModelFiles,
): Promise<TinyModelInfo> {
  const { dtype } = files;
  const withWeights = files.writeWeights ?? true;
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of withWeights ? tinyWeights(files.config, files.seed) : []) {
    tensors.set(name, {
      dtype,
      shape: t.shape,
      data: dtype === "F32" ? t.data : dtype === "F16" ? f32ToF16(t.data) : f32ToBf16(t.data),
    });
  }
  await writeDirAtomic(dir, async (tmp) => {
    await writeJsonAtomic(join(tmp, "config.json"), files.configJson);
    await writeJsonAtomic(join(tmp, "generation_config.json"), files.generationConfig);
    if (withWeights) {
      await writeSafetensors(join(tmp, "model.safetensors"), tensors, { format: "pt" });
    }
    await writeFileAtomic(join(tmp, "tokenizer.json"), files.tokenizerJson);
    await writeJsonAtomic(join(tmp, "tokenizer_config.json"), files.tokenizerConfig);
  });
  return {
    dir,
    config: files.config,
    files: [
      "config.json",
      "generation_config.json",
      ...(withWeights ? ["model.safetensors"] : []),
      "tokenizer.json",
      "tokenizer_config.json",
    ],
  };
}

/**
 * Seeded weights produced tensor by tensor, for models too large to write in float32 (a
 * 7B-shaped benchmark model): each tensor's `data` is generated when read (uniform values of
 * the scale {@link tinyWeights} uses, from a generator seeded by `seed` and the tensor's name) and
 * nothing is kept, so a quantized export holds one float32 tensor at a time. Pass it as
 * `weightSource` to Engine.load / the model hub.
 *
 * @example
 * ```ts
 * import { seededWeightSource } from "./tiny.ts";
 * import type { DecoderConfig } from "./config.ts";
 * declare const config: DecoderConfig;
 * const { weights, close } = await seededWeightSource(3).open(config);
 * console.log(weights.get("model.norm.weight")!.data[0]); // 1
 * close();
 * ```
 */
export function seededWeightSource(
  seed: number,
): { id: string; open(config: DecoderConfig): Promise<StreamedWeights> } {
  return {
    id: `seeded-uniform:${seed}`,
    open(config) {
      const weights = new Map<string, WeightTensor>();
      for (const [name, shape] of expectedWeightShapes(config)) {
        const n = shape.reduce((a, b) => a * b, 1);
        let s = (seed * 0x9e3779b1) ^ 0x85ebca6b;
        for (let i = 0; i < name.length; i++) s = Math.imul(s ^ name.charCodeAt(i), 0x01000193);
        const norm = name.endsWith("norm.weight");
        const std = norm
          ? 0.05
          : name.endsWith(".bias")
          ? 0.1
          : name === "model.embed_tokens.weight" || name === "lm_head.weight"
          ? 0.3
          : 1 / Math.sqrt(shape[1]);
        const half = std * Math.sqrt(3); // uniform(-a, a) has std a/√3
        const cols = n / shape[0];
        // Values [from, to) of the tensor's sequence; a read that starts where the last one
        // ended continues from its state (row slices read in order cost one pass).
        let cursor = { at: 0, x: s | 1 };
        const values = (from: number, to: number) => {
          if (from < cursor.at) cursor = { at: 0, x: s | 1 };
          let x = cursor.x;
          for (let i = cursor.at; i < from; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
          }
          const out = new Float32Array(to - from);
          for (let i = 0; i < out.length; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            out[i] = (norm ? 1 : 0) + half * ((x >>> 0) / 2147483648 - 1);
          }
          cursor = { at: to, x };
          return out;
        };
        weights.set(name, {
          shape,
          get data() {
            return values(0, n);
          },
          readRows: (start: number, end: number) => values(start * cols, end * cols),
        });
      }
      return Promise.resolve({ weights, close: () => {} });
    },
  };
}
