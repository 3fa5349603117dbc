/**
 * Weight storage types of inference graphs (`--dtype`): float32, float16 / bfloat16 storage, and
 * symmetric block-quantized int8 / int4 in the layout of onnxruntime's `com.microsoft`
 * `MatMulNBits` and `GatherBlockQuantized` contrib ops.
 *
 * Quantization (per output row, blocks of `blockSize` consecutive input features, one float32
 * scale per block): int8 `scale = max|w| / 127`, `q = round(w / scale)` (llama.cpp's Q8_0 rule);
 * int4 levels `q` in `[-8, 7]` with the scale that minimizes the block's squared error among a
 * few candidates (`quantizeInt4Block`; no worse than Q4_0's `max / -8` in float32). Levels are
 * stored unsigned as `q + zp` with the ops' default zero point `zp = 2^(bits-1)` (8 or 128), so no
 * zero-point tensor is needed; `w ≈ (stored - zp) · scale`. int4 packs two values per byte, the
 * lower-indexed one in the low nibble. A last partial block is padded with `zp` (value 0).
 *
 * @module
 */

import { withCode } from "../errors.ts";
import {
  bfloat16ToFloat32,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
} from "../onnx/float16.ts";

/** Weight storage types of an inference graph. */
export type WeightDtype = "f32" | "f16" | "bf16" | "int8" | "int4";

/** Every {@link WeightDtype}, in order of size. */
export const WEIGHT_DTYPES: readonly WeightDtype[] = ["f32", "f16", "bf16", "int8", "int4"];

/** Quantization settings of an inference graph. */
export interface WeightFormat {
  dtype: WeightDtype;
  /** Input features per scale (int4 / int8): 32 or 128. Default {@link defaultBlockSize}. */
  blockSize?: number;
  /**
   * `MatMulNBits` `accuracy_level`: 4 quantizes activations to int8 inside the kernel (fastest
   * on CPU, measured), 0 computes in float32. Default 4.
   */
  accuracyLevel?: number;
}

/** The block sizes {@link parseWeightFormat} accepts. */
export const BLOCK_SIZES: readonly number[] = [32, 128];

/**
 * The block size of a format that names none: 128. As onnxruntime repacks them for
 * `MatMulNBits` (int8 compute: a float32 scale and a float32 block sum per block), blocks of 128
 * stream 8.5 bits per int8 weight and 4.5 per int4 weight, the sizes of llama.cpp's Q8_0 and Q4_0,
 * against 10 and 6 at 32 (README, "Quantized weights"). int8 loses no perplexity at 128; int4
 * loses some (babyllama-105 +9.6% against +7.5% at 32, with {@link quantizeMatrix}'s scale search;
 * Q4_0's own rule at 32: +9.0%) and decodes about 1.3× faster.
 *
 * @example
 * ```ts
 * import { defaultBlockSize } from "./quantize.ts";
 * console.log(defaultBlockSize("int8"), defaultBlockSize("int4")); // 128 128
 * ```
 */
export function defaultBlockSize(_dtype: WeightDtype): number {
  return 128;
}

/**
 * The block size a matrix of `cols` input features is quantized with: the format's, or 32 where
 * that does not divide `cols` but 32 does (hidden 576 of SmolLM2-135M, intermediate 352 of
 * babyllama-105), so that no row carries a padded block and an embedding table stays quantized
 * (`GatherBlockQuantized` needs whole blocks). Each `MatMulNBits` node names its own block size.
 *
 * @example
 * ```ts
 * import { blockSizeFor } from "./quantize.ts";
 * const f = { dtype: "int4", blockSize: 128, accuracyLevel: 4 } as const;
 * console.log(blockSizeFor(896, f), blockSizeFor(576, f), blockSizeFor(100, f)); // 128 32 128
 * ```
 */
export function blockSizeFor(cols: number, format: Required<WeightFormat>): number {
  const bs = format.blockSize;
  return cols % bs !== 0 && cols % 32 === 0 ? 32 : bs;
}

/**
 * Parses `--dtype` (`f32`, `f16`, `bf16`, `int8`, `int4`, optionally `int4:32` / `int8:32` for
 * the block size), also accepting the long names `float32`, `float16`, `bfloat16`.
 *
 * @example
 * ```ts
 * import { parseWeightFormat } from "./quantize.ts";
 * console.log(parseWeightFormat("int4:32")); // { dtype: "int4", blockSize: 32 }
 * ```
 */
export function parseWeightFormat(text: string, where = "--dtype"): WeightFormat {
  const [raw, block, ...rest] = String(text).trim().toLowerCase().split(":");
  const alias: Record<string, WeightDtype> = {
    float32: "f32",
    fp32: "f32",
    float16: "f16",
    fp16: "f16",
    bfloat16: "bf16",
  };
  const dtype = (alias[raw] ?? raw) as WeightDtype;
  if (!WEIGHT_DTYPES.includes(dtype) || rest.length > 0) {
    throw withCode(
      new RangeError(
        `${where} is ${JSON.stringify(text)}; use one of ${
          WEIGHT_DTYPES.join(", ")
        } (int4/int8 take an optional block size, e.g. int4:32)`,
      ),
      "E_USAGE",
    );
  }
  if (block === undefined) return { dtype };
  const blockSize = Number(block);
  if (!isQuantized(dtype) || !BLOCK_SIZES.includes(blockSize)) {
    throw withCode(
      new RangeError(
        `${where} is ${JSON.stringify(text)}; a block size goes only with int4/int8 and is one of ${
          BLOCK_SIZES.join(", ")
        }`,
      ),
      "E_USAGE",
    );
  }
  return { dtype, blockSize };
}

/**
 * The `--dtype` text of a format with its block size spelled out (`int4` → `int4:128`,
 * `f16` → `f16`): what {@link parseWeightFormat} reads back as the same format.
 *
 * @example
 * ```ts
 * import { weightFormatName } from "./quantize.ts";
 * console.log(weightFormatName("int4"), weightFormatName({ dtype: "int8", blockSize: 32 })); // int4:128 int8:32
 * ```
 */
export function weightFormatName(format: WeightFormat | WeightDtype | string): string {
  const f = normalizeWeightFormat(format);
  return isQuantized(f.dtype) ? `${f.dtype}:${f.blockSize}` : f.dtype;
}

/** Checks a {@link WeightFormat} (e.g. from an experiment file) and fills the defaults. */
export function normalizeWeightFormat(
  format: WeightFormat | WeightDtype | string | undefined,
  where = "dtype",
): Required<WeightFormat> {
  const f: WeightFormat = format === undefined
    ? { dtype: "f32" }
    : typeof format === "string"
    ? parseWeightFormat(format, where)
    : format;
  if (!WEIGHT_DTYPES.includes(f.dtype)) {
    throw withCode(
      new RangeError(`${where} is ${JSON.stringify(f.dtype)}; use one of ${WEIGHT_DTYPES}`),
      "E_USAGE",
    );
  }
  const blockSize = f.blockSize ?? defaultBlockSize(f.dtype);
  if (!BLOCK_SIZES.includes(blockSize)) {
    throw withCode(
      new RangeError(`${where} block size is ${blockSize}; use one of ${BLOCK_SIZES.join(", ")}`),
      "E_USAGE",
    );
  }
  const accuracyLevel = f.accuracyLevel ?? 4;
  if (![0, 1, 2, 3, 4].includes(accuracyLevel)) {
    throw withCode(
      new RangeError(`${where} accuracy level is ${accuracyLevel}; use 0..4`),
      "E_USAGE",
    );
  }
  return { dtype: f.dtype, blockSize, accuracyLevel };
}

/** Whether the dtype is block-quantized (int4 / int8). */
export function isQuantized(dtype: WeightDtype): dtype is "int4" | "int8" {
  return dtype === "int4" || dtype === "int8";
}

/** Bits per weight of a quantized dtype. */
export function bitsOf(dtype: "int4" | "int8"): 4 | 8 {
  return dtype === "int4" ? 4 : 8;
}

/** A block-quantized `[rows, cols]` matrix. */
export interface QuantizedMatrix {
  rows: number;
  cols: number;
  bits: 4 | 8;
  blockSize: number;
  /** `ceil(cols / blockSize)`. */
  blocksPerRow: number;
  /** `[rows, blocksPerRow, blockSize·bits/8]` packed unsigned values. */
  packed: Uint8Array;
  /** `[rows, blocksPerRow]` float32 scales. */
  scales: Float32Array;
  /**
   * `[rows, blocksPerRow]` unsigned zero of each block (a pre-quantized checkpoint's own levels,
   * `w = (stored − zero) · scale`); absent: the ops' default `2^(bits-1)` for every block.
   */
  zeros?: Uint8Array;
}

/**
 * A matrix's {@link QuantizedMatrix.zeros} in `MatMulNBits`'s `zero_points` layout: per row,
 * `ceil(blocksPerRow · bits / 8)` bytes, int4 two per byte with the lower block in the low nibble.
 *
 * @example
 * ```ts
 * import { packZeroPoints } from "./quantize.ts";
 * const q = { rows: 1, cols: 96, bits: 4, blockSize: 32, blocksPerRow: 3,
 *   packed: new Uint8Array(48), scales: new Float32Array(3), zeros: new Uint8Array([1, 2, 3]) } as const;
 * console.log(Array.from(packZeroPoints(q))); // [33, 3]
 * ```
 */
export function packZeroPoints(q: QuantizedMatrix): Uint8Array {
  const { rows, bits, blocksPerRow: nb } = q;
  const zeros = q.zeros ?? new Uint8Array(rows * nb).fill(1 << (bits - 1));
  if (bits === 8) return zeros.slice();
  const per = Math.ceil(nb / 2);
  const out = new Uint8Array(rows * per);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < nb; k++) out[r * per + (k >> 1)] |= zeros[r * nb + k] << ((k & 1) * 4);
  }
  return out;
}

/**
 * Quantizes a row-major `[rows, cols]` float matrix (Hugging Face `[out, in]` linear layout, or
 * an embedding table) along its rows, in blocks of `blockSize` columns.
 *
 * @example
 * ```ts
 * import { dequantizeMatrix, quantizeMatrix } from "./quantize.ts";
 * const q = quantizeMatrix(new Float32Array([0.5, -1, 0.25, 1]), 1, 4, 4, 32);
 * console.log(Array.from(dequantizeMatrix(q))); // ≈ [0.559, -0.979, 0.280, 0.979]
 * ```
 */
export function quantizeMatrix(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  bits: 4 | 8,
  blockSize: number,
): QuantizedMatrix {
  if (data.length !== rows * cols) {
    throw withCode(
      new RangeError(`quantizeMatrix got ${data.length} values for [${rows}, ${cols}]`),
      "E_WEIGHTS",
    );
  }
  const nb = Math.ceil(cols / blockSize);
  const blob = (blockSize * bits) / 8;
  const packed = new Uint8Array(rows * nb * blob);
  const scales = new Float32Array(rows * nb);
  const zp = bits === 4 ? 8 : 128;
  const block = new Float64Array(blockSize);
  const levels = new Int32Array(blockSize);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let k = 0; k < nb; k++) {
      const start = k * blockSize;
      const n = Math.min(blockSize, cols - start);
      let finite = 0; // stays 0 unless a value is NaN or ±Infinity (x·0 is NaN for those)
      for (let i = 0; i < n; i++) {
        block[i] = data[row + start + i];
        finite += block[i] * 0;
      }
      if (finite !== 0) {
        throw withCode(
          new RangeError(
            `weight row ${r}, columns ${start}–${start + n - 1} of a [${rows}, ${cols}] matrix ` +
              `hold NaN or infinite values, which cannot be quantized; the checkpoint is damaged ` +
              `(re-download or re-export it)`,
          ),
          "E_WEIGHTS",
        );
      }
      scales[r * nb + k] = bits === 4
        ? quantizeInt4Block(block, n, levels)
        : quantizeInt8Block(block, n, levels);
      const base = (r * nb + k) * blob;
      if (bits === 8) {
        for (let i = 0; i < n; i++) packed[base + i] = levels[i] + zp;
        packed.fill(zp, base + n, base + blob);
      } else {
        for (let i = 0; i < blob; i++) {
          const lo = 2 * i < n ? levels[2 * i] + zp : zp;
          const hi = 2 * i + 1 < n ? levels[2 * i + 1] + zp : zp;
          packed[base + i] = lo | (hi << 4);
        }
      }
    }
  }
  return { rows, cols, bits, blockSize, blocksPerRow: nb, packed, scales };
}

/**
 * The divisors `n` tried for an int4 block's scale `d = m / n`, `m` the block's value of largest
 * magnitude (sign kept). `n = -8` is llama.cpp's Q4_0 scale; the others trade clipping `m` for
 * finer steps. On babyllama-105's matrices and on Gaussian ones these five reach within 1% of the
 * squared error that the eight divisors -6.5, -7, …, -10 reach (relative error, blocks of 32 /
 * 128: `max / 7` 0.0079 / 0.0111, Q4_0 0.0062 / 0.0086, these 0.0055 / 0.0076).
 */
const INT4_DIVISORS: readonly number[] = [-7, -8, -8.5, -9, -10];

/**
 * Levels (in `[-8, 7]`) and scale of one int4 block of `n` values: for each divisor in
 * {@link INT4_DIVISORS} the block is rounded at `d = m / n`, the scale is refitted by least
 * squares for those levels (`Σ x·q / Σ q²`), and the pair with the smallest squared error
 * (`Σ x² − (Σ x·q)² / Σ q²`) is kept, so no block is worse than at Q4_0's scale. Returns the
 * scale; `levels[0..n)` receives the levels. Also the rule of the GGUF q4_0 export.
 *
 * @example
 * ```ts
 * import { quantizeInt4Block } from "./quantize.ts";
 * const levels = new Int32Array(2);
 * const d = quantizeInt4Block(new Float64Array([1, -0.3]), 2, levels);
 * console.log(d.toFixed(4), Array.from(levels)); // -0.1434 [-7, 2]
 * ```
 */
export function quantizeInt4Block(x: Float64Array, n: number, levels: Int32Array): number {
  let m = 0;
  for (let i = 0; i < n; i++) if (Math.abs(x[i]) > Math.abs(m)) m = x[i];
  if (m === 0) {
    levels.fill(0, 0, n);
    return 0;
  }
  let best = INT4_DIVISORS[0];
  let bestGain = -1;
  let bestScale = 0;
  for (let j = 0; j < INT4_DIVISORS.length; j++) {
    const inv = INT4_DIVISORS[j] / m;
    let xq = 0;
    let qq = 0;
    for (let i = 0; i < n; i++) {
      const q = roundLevel(x[i] * inv, 8, -8, 7);
      xq += x[i] * q;
      qq += q * q;
    }
    const gain = (xq * xq) / qq;
    if (gain > bestGain) {
      bestGain = gain;
      best = INT4_DIVISORS[j];
      bestScale = xq / qq;
    }
  }
  const inv = best / m;
  for (let i = 0; i < n; i++) levels[i] = roundLevel(x[i] * inv, 8, -8, 7);
  return Math.fround(bestScale);
}

/**
 * Levels (in `[-127, 127]`) and scale `max|x| / 127` of one int8 block of `n` values: llama.cpp's
 * Q8_0 rule, also the GGUF q8_0 export's. Returns the scale; `levels[0..n)` receives the levels.
 */
export function quantizeInt8Block(x: Float64Array, n: number, levels: Int32Array): number {
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(x[i]));
  const scale = Math.fround(max / 127);
  const inv = scale > 0 ? 1 / scale : 0;
  for (let i = 0; i < n; i++) levels[i] = roundLevel(x[i] * inv, 128, -127, 127);
  return scale;
}

/**
 * `y` rounded half up and clamped to the levels `[lo, hi]`, in integer arithmetic (about 3×
 * faster in V8 than Math.round and a clamp): `floor(clamp(y + zp + 0.5, zp + lo + 0.5,
 * zp + hi + 0.5)) - zp`, where the offset `zp > -lo` keeps the floored value positive.
 */
function roundLevel(y: number, zp: number, lo: number, hi: number): number {
  let v = y + (zp + 0.5);
  const min = zp + lo + 0.5;
  const max = zp + hi + 0.5;
  v = v < min ? min : v > max ? max : v;
  return (v | 0) - zp;
}

/**
 * The float64 values a {@link QuantizedMatrix} stands for, `[rows, cols]` — the reference the
 * onnxruntime kernels are checked against.
 *
 * @example
 * ```ts
 * import { dequantizeMatrix, quantizeMatrix } from "./quantize.ts";
 * console.log(dequantizeMatrix(quantizeMatrix(new Float32Array([1, -1]), 1, 2, 8, 32)));
 * ```
 */
export function dequantizeMatrix(q: QuantizedMatrix): Float64Array {
  const out = new Float64Array(q.rows * q.cols);
  dequantizeInto(q, out);
  return out;
}

/** Writes the float values of a quantized matrix, row-major, into `out` (`rows · cols` long). */
export function dequantizeInto(q: QuantizedMatrix, out: Float32Array | Float64Array): void {
  const { rows, cols, bits, blockSize, blocksPerRow: nb, packed, scales, zeros } = q;
  const blob = (blockSize * bits) / 8;
  const mid = bits === 4 ? 8 : 128;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const k = Math.floor(c / blockSize);
      const zp = zeros ? zeros[r * nb + k] : mid;
      const i = c - k * blockSize;
      const base = (r * nb + k) * blob;
      const v = bits === 8
        ? packed[base + i]
        : (i & 1)
        ? packed[base + (i >> 1)] >> 4
        : packed[base + (i >> 1)] & 0x0f;
      out[r * cols + c] = (v - zp) * scales[r * nb + k];
    }
  }
}

/** Bytes a `[rows, cols]` weight takes on disk in this format (packed values plus scales). */
export function weightBytes(rows: number, cols: number, format: WeightFormat): number {
  const f = normalizeWeightFormat(format);
  if (f.dtype === "f32") return rows * cols * 4;
  if (f.dtype === "f16" || f.dtype === "bf16") return rows * cols * 2;
  const bs = blockSizeFor(cols, f);
  return rows * Math.ceil(cols / bs) * ((bs * bitsOf(f.dtype)) / 8 + 4);
}

/** float32 values as float16 or bfloat16 bits. */
export function toHalfBits(data: Float32Array, dtype: "f16" | "bf16"): Uint16Array {
  return dtype === "f16" ? float32ToFloat16(data) : float32ToBfloat16(data);
}

/**
 * The float32 weights a graph built with this format computes with: every 2-D weight (linear
 * layers, embedding, lm_head) rounded to f16/bf16 or quantized and dequantized; norms and biases
 * as they are. A float32 (or float64) graph of these weights is the reference of the quantized
 * graph (gradient checks, tolerance tests).
 *
 * @example
 * ```ts
 * import { dequantizedWeights } from "./quantize.ts";
 * const w = new Map([["w", { shape: [1, 2], data: new Float32Array([1, -0.3]) }]]);
 * console.log(dequantizedWeights(w, { dtype: "int4" }).get("w")!.data); // ≈ [1.0038, -0.2868]
 * ```
 */
export function dequantizedWeights(
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  format: WeightFormat,
): Map<string, { shape: number[]; data: Float32Array }> {
  const f = normalizeWeightFormat(format);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of weights) {
    if (t.shape.length !== 2 || f.dtype === "f32") {
      out.set(name, t);
      continue;
    }
    const [rows, cols] = t.shape;
    let data: Float32Array;
    if (f.dtype === "f16") data = float16ToFloat32(float32ToFloat16(t.data));
    else if (f.dtype === "bf16") data = bfloat16ToFloat32(float32ToBfloat16(t.data));
    else {
      data = Float32Array.from(
        dequantizeMatrix(
          quantizeMatrix(t.data, rows, cols, bitsOf(f.dtype), blockSizeFor(cols, f)),
        ),
      );
    }
    out.set(name, { shape: t.shape, data });
  }
  return out;
}
