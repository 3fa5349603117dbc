/**
 * Loads the tensors a Llama-family decoder needs from a model directory's safetensors, converted
 * to float32, with every shape checked against the config.
 *
 * @module
 */

import type { DecoderConfig } from "./config.ts";
import { openSafetensorsDir, type TensorSource } from "./safetensors.ts";
import {
  DequantizingSource,
  type NativeLayer,
  parsePrequantized,
  readQuantizationConfig,
} from "./prequantized.ts";
import { withCode } from "../errors.ts";

/** One float32 tensor, row-major, Hugging Face layout (linear weights are `[out, in]`). */
export interface WeightTensor {
  /** Dimensions, HF order. */
  shape: number[];
  /** Row-major float32 values. */
  data: Float32Array;
  /**
   * Rows `[start, end)` along the first dimension, read on demand (streamed weights only): a
   * large table (an embedding, a 7B lm_head) is then quantized a slice at a time instead of
   * being held whole in float32.
   */
  readRows?(start: number, end: number): Float32Array;
  /**
   * A pre-quantized checkpoint's own levels of this layer (streamed weights of a GPTQ/AWQ
   * checkpoint whose groups `MatMulNBits` can run): a graph at the same bits uses them as they
   * are instead of quantizing `data` again.
   */
  native?: NativeLayer;
}

/** A streamed weight's values as a reader: call it for the whole tensor, `.rows` for a slice. */
export type WeightReader = (() => Float32Array) & {
  rows?: (start: number, end: number) => Float32Array;
  native?: NativeLayer;
};

/**
 * The values of a weight for a graph initializer: the array itself, or for streamed weights a
 * {@link WeightReader} that reads them only when the initializer is written (and carries a
 * pre-quantized layer's own levels, {@link WeightTensor.native}).
 */
export function weightData(t: WeightTensor): Float32Array | WeightReader {
  if (!isStreamed(t) && !t.native) return t.data;
  const read = () => t.data;
  return Object.assign(read, {
    ...(t.readRows ? { rows: t.readRows.bind(t) } : {}),
    ...(t.native ? { native: t.native } : {}),
  });
}

/** Tensors by Hugging Face name (`model.layers.0.self_attn.q_proj.weight`, …). */
export type DecoderWeights = Map<string, WeightTensor>;

/**
 * The Hugging Face tensor names and shapes a decoder with this config needs, in load order.
 *
 * @example
 * ```ts
 * import { expectedWeightShapes } from "./weights.ts";
 * import { parseDecoderConfig } from "./config.ts";
 * const cfg = parseDecoderConfig(JSON.parse(await Deno.readTextFile("config.json")), "config.json");
 * for (const [name, shape] of expectedWeightShapes(cfg)) console.log(name, shape);
 * ```
 */
export function expectedWeightShapes(config: DecoderConfig): Map<string, number[]> {
  const { hiddenSize: d, vocabSize: v, intermediateSize: f, headDim: hd } = config;
  const qOut = config.numHeads * hd;
  const kvOut = config.numKvHeads * hd;
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [v, d]);
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    out.set(`${p}.input_layernorm.weight`, [d]);
    out.set(`${p}.self_attn.q_proj.weight`, [qOut, d]);
    out.set(`${p}.self_attn.k_proj.weight`, [kvOut, d]);
    out.set(`${p}.self_attn.v_proj.weight`, [kvOut, d]);
    if (config.attentionBias) {
      out.set(`${p}.self_attn.q_proj.bias`, [qOut]);
      out.set(`${p}.self_attn.k_proj.bias`, [kvOut]);
      out.set(`${p}.self_attn.v_proj.bias`, [kvOut]);
    }
    if (config.qkNorm) {
      out.set(`${p}.self_attn.q_norm.weight`, [hd]);
      out.set(`${p}.self_attn.k_norm.weight`, [hd]);
    }
    out.set(`${p}.self_attn.o_proj.weight`, [d, qOut]);
    out.set(`${p}.post_attention_layernorm.weight`, [d]);
    out.set(`${p}.mlp.gate_proj.weight`, [f, d]);
    out.set(`${p}.mlp.up_proj.weight`, [f, d]);
    out.set(`${p}.mlp.down_proj.weight`, [d, f]);
  }
  out.set("model.norm.weight", [d]);
  if (!config.tieWordEmbeddings) out.set("lm_head.weight", [v, d]);
  return out;
}

/** Options of {@link loadWeights}. */
export interface LoadWeightsOptions {
  /** Called after each tensor is read (for progress bars). */
  onTensor?: (name: string, index: number, total: number) => void;
}

/**
 * Reads every tensor the decoder needs from `dir` (`model.safetensors` or a sharded index),
 * converts F16 / BF16 / F64 to float32 and checks each shape against the config. A missing
 * tensor or a shape mismatch throws a `RangeError` tagged `E_WEIGHTS` that names the file, the
 * tensor, the expected and the found shape.
 *
 * @example
 * ```ts
 * import { loadWeights } from "./weights.ts";
 * import { readDecoderConfig } from "./config.ts";
 * const cfg = await readDecoderConfig("/models/tiny");
 * const w = await loadWeights("/models/tiny", cfg);
 * console.log(w.get("model.norm.weight")?.shape);
 * ```
 */
export async function loadWeights(
  dir: string,
  config: DecoderConfig,
  options: LoadWeightsOptions = {},
): Promise<DecoderWeights> {
  const src = await openChecked(dir, config);
  try {
    return await readChecked(src, config, options, false);
  } finally {
    src.close();
  }
}

/** Weights read on demand (see {@link streamWeights}); close them once the export is written. */
export interface StreamedWeights {
  /** The tensors; each `data` access reads the tensor from its file again (nothing is kept). */
  weights: DecoderWeights;
  /** Closes the files. */
  close(): void;
}

/**
 * Like {@link loadWeights} (the same names, shapes and dtypes are checked up front), but no
 * tensor is read until its `data` is accessed, and nothing is kept: a graph export that reads
 * each tensor once while writing it (transposing or quantizing on the fly) holds one tensor at
 * a time instead of the whole float32 model.
 *
 * @example
 * ```ts
 * import { streamWeights } from "./weights.ts";
 * import { readDecoderConfig } from "./config.ts";
 * const config = await readDecoderConfig("models/tiny");
 * const { weights, close } = await streamWeights("models/tiny", config);
 * console.log(weights.get("model.norm.weight")!.data.length);
 * close();
 * ```
 */
export async function streamWeights(
  dir: string,
  config: DecoderConfig,
): Promise<StreamedWeights> {
  const src = await openChecked(dir, config);
  try {
    return { weights: await readChecked(src, config, {}, true), close: () => src.close() };
  } catch (e) {
    src.close();
    throw e;
  }
}

/**
 * Runs `use` on a model's weights as a graph of `format` wants them: streamed (each tensor read
 * while the graph is written, kept by nobody; closed after `use`) for a quantized or half format,
 * loaded as float32 for f32. Write the graph (open its session) inside `use`.
 *
 * @example
 * ```ts ignore
 * import { withBaseWeights } from "./weights.ts";
 * const loss = await withBaseWeights("models/tiny", config, { dtype: "int4" }, async (weights) => {
 *   const graph = buildTrainGraph(config, weights, { adapters, weights: { dtype: "int4" } });
 *   return await openAndRun(graph); // reads the streamed tensors
 * });
 * ```
 */
export async function withBaseWeights<T>(
  dir: string,
  config: DecoderConfig,
  format: { dtype: string },
  use: (weights: DecoderWeights) => Promise<T>,
): Promise<T> {
  if (format.dtype === "f32") return await use(await loadWeights(dir, config));
  const streamed = await streamWeights(dir, config);
  try {
    return await use(streamed.weights);
  } finally {
    streamed.close();
  }
}

/** Whether a weight's data is read on access (from {@link streamWeights}). */
export function isStreamed(t: WeightTensor): boolean {
  return Object.getOwnPropertyDescriptor(t, "data")?.get !== undefined;
}

async function openChecked(dir: string, config: DecoderConfig): Promise<TensorSource> {
  const q = await readQuantizationConfig(dir, config.raw);
  const format = q ? parsePrequantized(q.config, q.path) : undefined;
  const src = await openSafetensorsDir(dir);
  return format ? new DequantizingSource(src, format, expectedWeightShapes(config)) : src;
}

async function readChecked(
  src: TensorSource,
  config: DecoderConfig,
  options: LoadWeightsOptions,
  lazy: boolean,
): Promise<DecoderWeights> {
  {
    const wanted = expectedWeightShapes(config);
    const weights: DecoderWeights = new Map();
    let index = 0;
    for (const [name, shape] of wanted) {
      if (!src.has(name)) {
        const hint = name === "lm_head.weight"
          ? ` (if the checkpoint shares the embedding, set "tie_word_embeddings": true in config.json)`
          : src.has(name.replace(/\.weight$/, ".qweight"))
          ? ` (the checkpoint holds GPTQ/AWQ-packed layers but neither a quantization_config in ` +
            `config.json nor a quantize_config.json; add the one it was published with)`
          : name.includes("_proj.bias")
          ? ` (config says attention_bias; set "attention_bias": false if the model has no biases)`
          : "";
        throw withCode(
          new RangeError(
            `${src.fileOf(name)}: tensor "${name}" is missing; expected shape ${fmt(shape)}. ` +
              `config.json and the weights disagree${hint}`,
          ),
          "E_WEIGHTS",
        );
      }
      const info = src.info(name)!;
      if (!sameShape(info.shape, shape)) {
        throw withCode(
          new RangeError(
            `${src.fileOf(name)}: tensor "${name}" has shape ${fmt(info.shape)} but config.json ` +
              `implies ${fmt(shape)}; config.json and the weights disagree: fix the config ` +
              `(sizes, head counts, head_dim) or use the matching weights`,
          ),
          "E_WEIGHTS",
        );
      }
      if (!["F32", "F16", "BF16", "F64"].includes(info.dtype)) {
        throw withCode(
          new TypeError(
            `${src.fileOf(name)}: tensor "${name}" has dtype ${info.dtype}; weights must be ` +
              `F32, F16, BF16 or F64 (a GPTQ or AWQ checkpoint needs its quantization_config in ` +
              `config.json; for other quantized formats load the F16/BF16 checkpoint and pass ` +
              `--dtype int8 or int4)`,
          ),
          "E_WEIGHTS",
        );
      }
      if (lazy) {
        const native = src instanceof DequantizingSource ? src.native(name) : undefined;
        weights.set(name, {
          shape: shape.slice(),
          get data() {
            return src.readF32Sync(name);
          },
          readRows: (start: number, end: number) => src.readF32RowsSync(name, start, end),
          ...(native ? { native } : {}),
        });
      } else weights.set(name, { shape: shape.slice(), data: await src.readF32(name) });
      options.onTensor?.(name, ++index, wanted.size);
    }
    return weights;
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function fmt(shape: number[]): string {
  return `[${shape.join(", ")}]`;
}
