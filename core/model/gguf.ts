/**
 * GGUF export: writes a Llama-family decoder (weights, hyperparameters and tokenizer) in the
 * GGUF v3 format llama.cpp reads, so the same weights run in llama.cpp (the peer of the `long`
 * benchmark). Tensors are streamed to the file one at a time. Tensor encodings live in one
 * table ({@link GGUF_TENSOR_TYPES}); a quantized type (q8_0, q4_0) is one more entry there.
 *
 * Layout (GGUF v3, little endian): magic `GGUF`, version, tensor count, metadata count, the
 * metadata key/values, the tensor infos (name, dims innermost first, type, offset), padding to
 * `general.alignment`, then the tensor data, each tensor aligned.
 *
 * Llama and Mistral are written as llama.cpp's `llama` architecture, whose rotary embedding
 * rotates adjacent pairs: the q/k projection rows are permuted from the Hugging Face
 * rotate-half order into pair order (what llama.cpp's own converter does). Qwen2 and Qwen3 use
 * the rotate-half (NeoX) order in llama.cpp too and are written unpermuted.
 *
 * @module
 */

import { withCode } from "../errors.ts";
import { float32ToFloat16 } from "../onnx/float16.ts";
import type { DecoderConfig } from "./config.ts";
import type { DecoderWeightMap } from "./decoder_graph.ts";
import { ropeInverseFrequencies } from "./graph_rope.ts";
import { quantizeInt4Block, quantizeInt8Block } from "./quantize.ts";

/**
 * Encodings of tensor data: GGML type id, block size in values, bytes per block, the
 * `general.file_type` of a file whose matrices use it, and the encoder.
 */
export const GGUF_TENSOR_TYPES = {
  f32: {
    id: 0,
    blockValues: 1,
    blockBytes: 4,
    fileType: 0,
    encode: (v: Float32Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
  },
  f16: {
    id: 1,
    blockValues: 1,
    blockBytes: 2,
    fileType: 1,
    encode: (v: Float32Array): Uint8Array => {
      const h = float32ToFloat16(v);
      return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    },
  },
  /**
   * Blocks of 32: an f16 scale `d = max|x| / 127`, then 32 int8 `round(x / d)` (the engine's int8
   * rule, `quantizeInt8Block`).
   */
  q8_0: { id: 8, blockValues: 32, blockBytes: 34, fileType: 7, encode: encodeQ8_0 },
  /**
   * Blocks of 32: an f16 scale `d`, then 16 bytes of 4-bit `q`, value j in the low nibble of byte
   * j and value j+16 in its high nibble; `x ≈ (q - 8) · d`. `d` and `q` come from the engine's
   * int4 rule (`quantizeInt4Block`: the least-squares error among scales around llama.cpp's
   * reference `m / -8`, never worse than it), so `int4:32` and q4_0 hold the same levels.
   */
  q4_0: { id: 2, blockValues: 32, blockBytes: 18, fileType: 2, encode: encodeQ4_0 },
} as const;

/** The values, after checking that none is NaN or infinite (`E_WEIGHTS` names the tensor). */
function finite(name: string, v: Float32Array): Float32Array {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw withCode(
        new RangeError(
          `GGUF tensor ${name}: value ${i} is ${v[i]}; the checkpoint is damaged (re-download or ` +
            `re-export it)`,
        ),
        "E_WEIGHTS",
      );
    }
  }
  return v;
}

function encodeQ8_0(v: Float32Array): Uint8Array {
  const blocks = v.length / 32;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  const x = new Float64Array(32);
  const q = new Int32Array(32);
  for (let b = 0; b < blocks; b++) {
    for (let j = 0; j < 32; j++) x[j] = v[b * 32 + j];
    view.setUint16(b * 34, float32ToFloat16([quantizeInt8Block(x, 32, q)])[0], true);
    for (let j = 0; j < 32; j++) out[b * 34 + 2 + j] = q[j] & 0xff;
  }
  return out;
}

function encodeQ4_0(v: Float32Array): Uint8Array {
  const blocks = v.length / 32;
  const out = new Uint8Array(blocks * 18);
  const view = new DataView(out.buffer);
  const x = new Float64Array(32);
  const q = new Int32Array(32);
  for (let b = 0; b < blocks; b++) {
    for (let j = 0; j < 32; j++) x[j] = v[b * 32 + j];
    const d = quantizeInt4Block(x, 32, q);
    view.setUint16(b * 18, float32ToFloat16([d])[0], true);
    for (let j = 0; j < 16; j++) out[b * 18 + 2 + j] = (q[j] + 8) | ((q[j + 16] + 8) << 4);
  }
  return out;
}

/** A tensor encoding name of {@link GGUF_TENSOR_TYPES}. */
export type GgufDType = keyof typeof GGUF_TENSOR_TYPES;

/** Options of {@link writeGguf}. */
export interface GgufExportOptions {
  /** Encoding of the matrices (1-D tensors such as norms stay f32). Default f32. */
  dtype?: GgufDType;
  /** `tokenizer.json` of the model (Hugging Face tokenizers format). */
  tokenizer: Record<string, unknown>;
  /** `general.name`. */
  name?: string;
}

const ALIGN = 32;

type MetaValue =
  | { t: "u32"; v: number }
  | { t: "i32"; v: number }
  | { t: "f32"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "str"; v: string }
  | { t: "arr_str"; v: string[] }
  | { t: "arr_f32"; v: ArrayLike<number> }
  | { t: "arr_i32"; v: ArrayLike<number> };

class ByteWriter {
  #chunks: Uint8Array[] = [];
  #buf = new Uint8Array(1 << 16);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;
  length = 0;

  #room(n: number) {
    if (this.#pos + n <= this.#buf.length) return;
    this.#chunks.push(this.#buf.slice(0, this.#pos));
    this.#buf = new Uint8Array(Math.max(1 << 16, n));
    this.#view = new DataView(this.#buf.buffer);
    this.#pos = 0;
  }
  u32(v: number) {
    this.#room(4);
    this.#view.setUint32(this.#pos, v, true);
    this.#pos += 4;
    this.length += 4;
  }
  i32(v: number) {
    this.#room(4);
    this.#view.setInt32(this.#pos, v, true);
    this.#pos += 4;
    this.length += 4;
  }
  f32(v: number) {
    this.#room(4);
    this.#view.setFloat32(this.#pos, v, true);
    this.#pos += 4;
    this.length += 4;
  }
  u64(v: number) {
    this.#room(8);
    this.#view.setBigUint64(this.#pos, BigInt(v), true);
    this.#pos += 8;
    this.length += 8;
  }
  u8(v: number) {
    this.#room(1);
    this.#buf[this.#pos++] = v;
    this.length += 1;
  }
  bytes(b: Uint8Array) {
    this.#room(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    this.length += b.length;
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  done(): Uint8Array {
    this.#chunks.push(this.#buf.slice(0, this.#pos));
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.#chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

const TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9 } as const;

function writeMeta(w: ByteWriter, key: string, m: MetaValue) {
  w.str(key);
  switch (m.t) {
    case "u32":
      w.u32(TYPE.u32);
      w.u32(m.v);
      break;
    case "i32":
      w.u32(TYPE.i32);
      w.i32(m.v);
      break;
    case "f32":
      w.u32(TYPE.f32);
      w.f32(m.v);
      break;
    case "bool":
      w.u32(TYPE.bool);
      w.u8(m.v ? 1 : 0);
      break;
    case "str":
      w.u32(TYPE.str);
      w.str(m.v);
      break;
    case "arr_str":
      w.u32(TYPE.arr);
      w.u32(TYPE.str);
      w.u64(m.v.length);
      for (const s of m.v) w.str(s);
      break;
    case "arr_f32":
      w.u32(TYPE.arr);
      w.u32(TYPE.f32);
      w.u64(m.v.length);
      for (let i = 0; i < m.v.length; i++) w.f32(m.v[i]);
      break;
    case "arr_i32":
      w.u32(TYPE.arr);
      w.u32(TYPE.i32);
      w.u64(m.v.length);
      for (let i = 0; i < m.v.length; i++) w.i32(m.v[i]);
      break;
  }
}

/** llama.cpp architecture name of a config. */
export function ggufArchitecture(config: DecoderConfig): "llama" | "qwen2" | "qwen3" {
  switch (config.modelType) {
    case "llama":
    case "mistral":
      return "llama";
    case "qwen2":
      return "qwen2";
    case "qwen3":
      return "qwen3";
    default:
      throw withCode(
        new RangeError(
          `model_type ${config.modelType} has no GGUF mapping; export llama, mistral, qwen2 or qwen3`,
        ),
        "E_MODEL_ARCH",
      );
  }
}

/** Rows of a q/k projection `[heads·hd, in]` from rotate-half order into adjacent-pair order. */
function permutePairs(data: Float32Array, heads: number, hd: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      for (let t = 0; t < 2; t++) {
        const src = (h * hd + t * half + j) * cols;
        const dst = (h * hd + 2 * j + t) * cols;
        out.set(data.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

interface TokenizerMeta {
  entries: [string, MetaValue][];
}

/** The tokenizer.ggml.* metadata from a Hugging Face tokenizer.json. */
function tokenizerMeta(tok: Record<string, unknown>, config: DecoderConfig): TokenizerMeta {
  const model = tok.model as
    | { type?: string; vocab?: Record<string, number>; merges?: (string | string[])[] }
    | undefined;
  if (!model || model.type !== "BPE" || typeof model.vocab !== "object") {
    throw withCode(
      new TypeError(
        "tokenizer.json has no BPE model with a vocab; GGUF export supports BPE tokenizers " +
          "(byte-level as Qwen/Llama 3, or SentencePiece-style as Llama 2)",
      ),
      "E_MODEL_DIR",
    );
  }
  const n = config.vocabSize;
  const tokens: string[] = new Array(n);
  const types = new Int32Array(n).fill(1); // NORMAL
  for (const [t, id] of Object.entries(model.vocab)) if (id < n) tokens[id] = t;
  const special = new Set<number>();
  for (
    const a of (tok.added_tokens as { id: number; content: string; special?: boolean }[]) ?? []
  ) {
    if (a.id >= n) continue;
    tokens[a.id] = a.content;
    types[a.id] = a.special ? 3 : 4; // CONTROL : USER_DEFINED
    if (a.special) special.add(a.id);
  }
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (tokens[i] === undefined || seen.has(tokens[i])) {
      tokens[i] = `[PAD${i}]`;
      types[i] = 5; // UNUSED
    }
    seen.add(tokens[i]);
  }
  const decoder = JSON.stringify(tok.decoder ?? "");
  // llama.cpp's SentencePiece tokenizer falls back to byte tokens and aborts when one is
  // missing; vocabularies without all 256 (e.g. a 105-token character vocabulary) are written as
  // BPE vocabularies instead: ids and weights are exact, only llama.cpp's own text tokenization
  // of the file differs from the original.
  const byteTokens = tokens.filter((t) => /^<0x[0-9A-F]{2}>$/.test(t ?? "")).length;
  const sentencePiece = (decoder.includes("▁") || decoder.includes("Metaspace")) &&
    byteTokens === 256;
  const entries: [string, MetaValue][] = [];
  if (sentencePiece) {
    for (let i = 0; i < n; i++) if (/^<0x[0-9A-F]{2}>$/.test(tokens[i])) types[i] = 6; // BYTE
    entries.push(["tokenizer.ggml.model", { t: "str", v: "llama" }]);
    entries.push(["tokenizer.ggml.tokens", { t: "arr_str", v: tokens }]);
    // Merge rank stands in for the SentencePiece scores: earlier ids merge first.
    entries.push(["tokenizer.ggml.scores", { t: "arr_f32", v: tokens.map((_, i) => -i) }]);
    entries.push(["tokenizer.ggml.token_type", { t: "arr_i32", v: types }]);
  } else {
    const merges = (model.merges ?? []).map((m) => Array.isArray(m) ? m.join(" ") : m);
    entries.push(["tokenizer.ggml.model", { t: "str", v: "gpt2" }]);
    entries.push(["tokenizer.ggml.pre", { t: "str", v: "default" }]);
    entries.push(["tokenizer.ggml.tokens", { t: "arr_str", v: tokens }]);
    entries.push(["tokenizer.ggml.token_type", { t: "arr_i32", v: types }]);
    entries.push(["tokenizer.ggml.merges", { t: "arr_str", v: merges }]);
  }
  if (config.bosTokenId !== null && config.bosTokenId !== undefined) {
    entries.push(["tokenizer.ggml.bos_token_id", { t: "u32", v: config.bosTokenId }]);
  }
  if (config.eosTokenIds.length > 0) {
    entries.push(["tokenizer.ggml.eos_token_id", { t: "u32", v: config.eosTokenIds[0] }]);
  }
  if (config.padTokenId !== null && config.padTokenId !== undefined) {
    entries.push(["tokenizer.ggml.padding_token_id", { t: "u32", v: config.padTokenId }]);
  }
  entries.push(["tokenizer.ggml.add_bos_token", { t: "bool", v: false }]);
  return { entries };
}

interface PlannedTensor {
  name: string;
  /** Row-major shape (outermost first), as in Hugging Face. */
  shape: number[];
  dtype: GgufDType;
  data: () => Float32Array;
}

/** The tensors of the GGUF file, in llama.cpp names, with their data producers. */
function planTensors(
  config: DecoderConfig,
  weights: DecoderWeightMap,
  dtype: GgufDType,
): PlannedTensor[] {
  const arch = ggufArchitecture(config);
  const W = (n: string) => {
    const w = weights.get(n);
    if (!w) throw withCode(new RangeError(`weight "${n}" is missing`), "E_WEIGHTS");
    return w;
  };
  const out: PlannedTensor[] = [];
  const add = (name: string, hf: string, permuteHeads?: number) => {
    const w = W(hf);
    const t = w.shape.length === 1 ? "f32" : fits(w.shape) ? dtype : "f16";
    out.push({
      name,
      shape: w.shape,
      dtype: t,
      data: () =>
        permuteHeads && arch === "llama"
          ? permutePairs(
            w.data,
            permuteHeads,
            config.headDim,
            w.shape.length === 2 ? w.shape[1] : 1,
          )
          : w.data,
    });
  };
  // Block-quantized encodings need rows that are whole blocks; other rows stay f16 (as
  // llama.cpp's converter does).
  const block = GGUF_TENSOR_TYPES[dtype].blockValues;
  const fits = (shape: number[]) => shape[shape.length - 1] % block === 0;
  add("token_embd.weight", "model.embed_tokens.weight");
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    const b = `blk.${i}`;
    add(`${b}.attn_norm.weight`, `${p}.input_layernorm.weight`);
    add(`${b}.attn_q.weight`, `${p}.self_attn.q_proj.weight`, config.numHeads);
    add(`${b}.attn_k.weight`, `${p}.self_attn.k_proj.weight`, config.numKvHeads);
    add(`${b}.attn_v.weight`, `${p}.self_attn.v_proj.weight`);
    add(`${b}.attn_output.weight`, `${p}.self_attn.o_proj.weight`);
    if (config.attentionBias) {
      add(`${b}.attn_q.bias`, `${p}.self_attn.q_proj.bias`, config.numHeads);
      add(`${b}.attn_k.bias`, `${p}.self_attn.k_proj.bias`, config.numKvHeads);
      add(`${b}.attn_v.bias`, `${p}.self_attn.v_proj.bias`);
    }
    if (weights.has(`${p}.self_attn.o_proj.bias`)) {
      add(`${b}.attn_output.bias`, `${p}.self_attn.o_proj.bias`);
    }
    if (config.qkNorm) {
      add(`${b}.attn_q_norm.weight`, `${p}.self_attn.q_norm.weight`);
      add(`${b}.attn_k_norm.weight`, `${p}.self_attn.k_norm.weight`);
    }
    add(`${b}.ffn_norm.weight`, `${p}.post_attention_layernorm.weight`);
    add(`${b}.ffn_gate.weight`, `${p}.mlp.gate_proj.weight`);
    add(`${b}.ffn_up.weight`, `${p}.mlp.up_proj.weight`);
    add(`${b}.ffn_down.weight`, `${p}.mlp.down_proj.weight`);
  }
  add("output_norm.weight", "model.norm.weight");
  if (!config.tieWordEmbeddings) add("output.weight", "lm_head.weight");
  const scaling = config.ropeScaling;
  if (scaling && scaling.type !== "linear") {
    // Llama 3 scaling: llama.cpp divides each inverse frequency by rope_freqs[i].
    const base = ropeInverseFrequencies({ ...config, ropeScaling: null });
    const scaled = ropeInverseFrequencies(config);
    const factors = Float32Array.from(base, (f, i) => f / scaled[i]);
    out.push({
      name: "rope_freqs.weight",
      shape: [factors.length],
      dtype: "f32",
      data: () => factors,
    });
  }
  return out;
}

/**
 * Writes `config` + `weights` + tokenizer as a GGUF file at `path` (written to a temporary name
 * and renamed, so a reader never sees half a file).
 *
 * @example
 * ```ts
 * import { writeGguf } from "./gguf.ts";
 * import { readDecoderConfig } from "./config.ts";
 * import { loadWeights } from "./weights.ts";
 * const config = await readDecoderConfig("models/tiny");
 * const weights = await loadWeights("models/tiny", config);
 * const tokenizer = JSON.parse(await Deno.readTextFile("models/tiny/tokenizer.json"));
 * await writeGguf("tiny.gguf", config, weights, { tokenizer, dtype: "f16" });
 * ```
 */
export async function writeGguf(
  path: string,
  config: DecoderConfig,
  weights: DecoderWeightMap,
  options: GgufExportOptions,
): Promise<{ path: string; bytes: number; tensors: number }> {
  const dtype = options.dtype ?? "f32";
  if (!(dtype in GGUF_TENSOR_TYPES)) {
    throw withCode(
      new RangeError(
        `dtype ${dtype}; use one of ${Object.keys(GGUF_TENSOR_TYPES).join(", ")}`,
      ),
      "E_USAGE",
    );
  }
  const arch = ggufArchitecture(config);
  const tensors = planTensors(config, weights, dtype);
  const meta: [string, MetaValue][] = [
    ["general.architecture", { t: "str", v: arch }],
    ["general.name", { t: "str", v: options.name ?? `dramatis-${config.modelType}` }],
    ["general.alignment", { t: "u32", v: ALIGN }],
    ["general.file_type", { t: "u32", v: GGUF_TENSOR_TYPES[dtype].fileType }],
    [`${arch}.context_length`, { t: "u32", v: config.maxPositionEmbeddings }],
    [`${arch}.embedding_length`, { t: "u32", v: config.hiddenSize }],
    [`${arch}.block_count`, { t: "u32", v: config.numLayers }],
    [`${arch}.feed_forward_length`, { t: "u32", v: config.intermediateSize }],
    [`${arch}.attention.head_count`, { t: "u32", v: config.numHeads }],
    [`${arch}.attention.head_count_kv`, { t: "u32", v: config.numKvHeads }],
    [`${arch}.attention.key_length`, { t: "u32", v: config.headDim }],
    [`${arch}.attention.value_length`, { t: "u32", v: config.headDim }],
    [`${arch}.rope.dimension_count`, { t: "u32", v: config.headDim }],
    [`${arch}.rope.freq_base`, { t: "f32", v: config.ropeTheta }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { t: "f32", v: config.rmsNormEps }],
    [`${arch}.vocab_size`, { t: "u32", v: config.vocabSize }],
  ];
  if (config.ropeScaling?.type === "linear") {
    meta.push([`${arch}.rope.scaling.type`, { t: "str", v: "linear" }]);
    meta.push([`${arch}.rope.scaling.factor`, { t: "f32", v: config.ropeScaling.factor }]);
  }
  meta.push(...tokenizerMeta(options.tokenizer, config).entries);

  // Header, metadata and tensor infos.
  const head = new ByteWriter();
  head.bytes(new TextEncoder().encode("GGUF"));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(meta.length);
  for (const [k, v] of meta) writeMeta(head, k, v);
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const enc = GGUF_TENSOR_TYPES[t.dtype];
    const bytes = (count / enc.blockValues) * enc.blockBytes;
    head.str(t.name);
    head.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) head.u64(d);
    head.u32(enc.id);
    head.u64(offset);
    offset += Math.ceil(bytes / ALIGN) * ALIGN;
  }
  const header = head.done();
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  let written = 0;
  const write = async (b: Uint8Array) => {
    let o = 0;
    while (o < b.length) o += await file.write(b.subarray(o));
    written += b.length;
  };
  try {
    await write(header);
    await write(new Uint8Array((ALIGN - (header.length % ALIGN)) % ALIGN));
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i];
      const bytes = GGUF_TENSOR_TYPES[t.dtype].encode(finite(t.name, t.data()));
      await write(bytes);
      await write(new Uint8Array((ALIGN - (bytes.length % ALIGN)) % ALIGN));
    }
    file.close();
    await Deno.rename(tmp, path);
  } catch (e) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  return { path, bytes: written, tensors: tensors.length };
}
