/**
 * Graph fragments for stored-weight formats other than float32: float16 / bfloat16 storage
 * (cast to float32 once, at session start) and int8 / int4 block quantization through
 * onnxruntime's `com.microsoft` `MatMulNBits` (linear layers, lm_head) and `GatherBlockQuantized`
 * (embedding table). Quantization runs lazily, when the model is written, one tensor at a time.
 *
 * @module
 */

import type { GraphBuilder } from "../onnx/builder.ts";
import { type Graph, type LazyData, numElements } from "../onnx/ir.ts";
import { errorCode, withCode } from "../errors.ts";
import { floatWeight, productTransB, transposedWeight, withLeadingAxes } from "./graph_layers.ts";
import type { WeightReader } from "./weights.ts";
import {
  bitsOf,
  blockSizeFor,
  dequantizeInto,
  isQuantized,
  packZeroPoints,
  type QuantizedMatrix,
  quantizeMatrix,
  toHalfBits,
  type WeightFormat,
} from "./quantize.ts";

/**
 * A weight's float32 values, or a function that reads them (streamed weights: each call reads
 * the tensor from its file, so a lazy initializer holds nothing until the model is written;
 * its `rows` reads a slice of rows, so a large table is quantized a slice at a time).
 */
export type WeightData = Float32Array | WeightReader;

/** Float32 values read per slice when a large streamed table is quantized (16 MiB). */
const SLICE_VALUES = 4 << 20;

/**
 * Quantizes a `[rows, cols]` weight; a streamed weight that reads row slices is quantized one
 * slice (at most `sliceValues` floats) at a time, so its float32 values are never all in memory
 * at once (the 0.5B shape's embedding is 545 MB in float32, a 7B lm_head 2.2 GB). The result
 * is the same as {@link quantizeMatrix} on the whole tensor.
 *
 * @example
 * ```ts
 * import { quantizeWeight } from "./graph_quant.ts";
 * const read = Object.assign(() => new Float32Array(64), {
 *   rows: (a: number, b: number) => new Float32Array((b - a) * 32),
 * });
 * console.log(quantizeWeight(read, 2, 32, 4, 32, 32).packed.length); // 32
 * ```
 */
export function quantizeWeight(
  data: WeightData,
  rows: number,
  cols: number,
  bits: 4 | 8,
  blockSize: number,
  sliceValues: number = SLICE_VALUES,
): QuantizedMatrix {
  const slice = Math.max(1, Math.floor(sliceValues / cols));
  if (typeof data !== "function" || !data.rows || rows <= slice) {
    return quantizeMatrix(valuesOf(data), rows, cols, bits, blockSize);
  }
  const nb = Math.ceil(cols / blockSize);
  const rowBytes = nb * (blockSize * bits) / 8;
  const packed = new Uint8Array(rows * rowBytes);
  const scales = new Float32Array(rows * nb);
  for (let r = 0; r < rows; r += slice) {
    const end = Math.min(rows, r + slice);
    const part = quantizeMatrix(data.rows(r, end), end - r, cols, bits, blockSize);
    packed.set(part.packed, r * rowBytes);
    scales.set(part.scales, r * nb);
  }
  return { rows, cols, bits, blockSize, blocksPerRow: nb, packed, scales };
}

const valuesOf = (data: WeightData): Float32Array => typeof data === "function" ? data() : data;

/** A linear weight as the graph uses it: a `[in, out]` float32 value, or a product function. */
export type LinearWeight = string | ((x: string) => string);

/** Runs a quantization of tensor `name`; an `E_WEIGHTS` error of the quantizer gets the name. */
function named<T>(name: string, quantize: () => T): T {
  try {
    return quantize();
  } catch (e) {
    if (errorCode(e) !== "E_WEIGHTS") throw e;
    throw withCode(new RangeError(`${name}: ${(e as Error).message}`), "E_WEIGHTS");
  }
}

/**
 * One read of a quantized matrix (`read`: a quantization, or a checkpoint's own levels), shared by
 * the lazy readers of its packed values and scales (and, with `zeros`, its zero points): the
 * matrix is let go once the packed values and scales have been read, its small zero points kept
 * apart. Zero points read on their own (another graph over weights already written) are packed
 * from a read that is not kept: holding it held every layer of a 7B GPTQ model at once.
 *
 * @example
 * ```ts
 * import { readOnce } from "./graph_quant.ts";
 * import { quantizeMatrix } from "./quantize.ts";
 * const parts = readOnce("w", () => quantizeMatrix(new Float32Array(64), 2, 32, 4, 32), 2, 32, 4, 32);
 * console.log(parts.packed.read().length, parts.scales.read().length); // 32 2
 * ```
 */
export function readOnce(
  name: string,
  read: () => QuantizedMatrix,
  rows: number,
  cols: number,
  bits: 4 | 8,
  blockSize: number,
  zeros = false,
): { packed: LazyData; scales: LazyData; zeros: LazyData } {
  let q: QuantizedMatrix | undefined;
  let zp: Uint8Array | undefined;
  let left = 2;
  const get = () => (q ??= named(name, read));
  const take = <T>(part: (m: QuantizedMatrix) => T): T => {
    const out = part(get());
    if (--left <= 0) {
      if (zeros) zp ??= packZeroPoints(q!);
      q = undefined;
    }
    return out;
  };
  const nb = Math.ceil(cols / blockSize);
  return {
    packed: { byteLength: rows * nb * (blockSize * bits) / 8, read: () => take((m) => m.packed) },
    scales: { byteLength: rows * nb * 4, read: () => take((m) => m.scales) },
    zeros: {
      byteLength: rows * Math.ceil((nb * bits) / 8),
      read: () => (zp ??= packZeroPoints(q ?? named(name, read))),
    },
  };
}

/** {@link readOnce} of a quantization of `data`. */
function quantizedOnce(
  name: string,
  data: WeightData,
  rows: number,
  cols: number,
  bits: 4 | 8,
  blockSize: number,
): { packed: LazyData; scales: LazyData } {
  const quantize = () => quantizeWeight(data, rows, cols, bits, blockSize);
  return readOnce(name, quantize, rows, cols, bits, blockSize);
}

function checkFloat32(b: GraphBuilder, format: Required<WeightFormat>): void {
  if (format.dtype !== "f32" && b.floatType !== "float32") {
    throw withCode(
      new RangeError(
        `weight dtype ${format.dtype} needs a float32 graph (this one is ${b.floatType}); ` +
          "gradient checks build float64 graphs from dequantized weights instead",
      ),
      "E_GRAPH",
    );
  }
}

/**
 * An HF `[out, in]` linear weight in the given format: float32 in the layout whose one-token
 * product onnxruntime's CPU kernels stream fastest; f16/bf16 → a transposed half initializer
 * cast to float32; int4/int8 → a `MatMulNBits` product.
 *
 * The float32 layout follows the weight's shape. A weight with at least as many inputs as
 * outputs (`down_proj`, the square `q_proj`/`o_proj` of most models, and `k_proj`/`v_proj` under
 * grouped-query attention) stays `[out, in]` and runs as Gemm(transB): MLAS's one-row kernel then
 * takes dot products along the input axis. A weight with more outputs than inputs (`gate_proj`,
 * `up_proj`, the lm_head) is stored transposed, `[in, out]`, for a plain MatMul, whose one-row
 * kernel streams the long output axis. (Half weights keep `[in, out]`: in a float16 graph, the CPU
 * provider's float16 Gemm rounds differently enough to change babyllama-105's greedy tokens.)
 * Measured at M = 1, the Qwen2.5-0.5B shape, 24 distinct weights per product, weights as mapped
 * files (prepacking off). One thread: 896→4864 20.0–22.6 GB/s as `[in, out]` MatMul against
 * 10.1–13.6 as Gemm(transB); 4864→896 21.2–22.6 as Gemm(transB) against 15.3–16.3 as MatMul;
 * 896→128 16.2–45.5 against 10.9–36.8; 896→896 15.8 against 15.0. Both cores: 896→896 19.6–25.0
 * as Gemm(transB) against 15.3–19.1 as MatMul, 896→4864 24.6–28.9 against 25.2–30.5. Larger
 * square weights (8 per product): 4096→4096 29.2–30.6 against 27.2–27.6 on both cores but 17.4
 * against 19.8 on one thread, 2048→2048 about the same either way, so the square rule suits the
 * engine's default of every core.
 */
export function linearWeight(
  b: GraphBuilder,
  name: string,
  shape: number[],
  data: WeightData,
  format: Required<WeightFormat>,
): LinearWeight {
  checkFloat32(b, format);
  const [rows, cols] = shape;
  if (isQuantized(format.dtype)) return quantizedProduct(b, name, rows, cols, data, format);
  const half = format.dtype === "f32" ? undefined : format.dtype;
  if (cols >= rows && !half) {
    // Kept as [out, in]: x @ Wᵀ through Gemm(transB).
    const init = b.floatType === "float32"
      ? b.initializer(
        name,
        "float32",
        shape,
        typeof data === "function" ? { byteLength: rows * cols * 4, read: data } : data,
      )
      : floatWeight(b, name, shape, valuesOf(data));
    return (x: string) => productTransB(b, x, init, cols, rows);
  }
  return transposedFloat(b, `${name}_t`, rows, cols, data, half);
}

/**
 * An HF `[out, in]` float weight stored transposed, `[in, out]`, as an initializer of the graph's
 * float type (f16/bf16 storage: a half initializer cast to float32). The transpose is made when
 * the model is written; a streamed weight that reads row slices is read a slice at a time.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { transposedFloat } from "./graph_quant.ts";
 * const b = new GraphBuilder();
 * transposedFloat(b, "lm_head_t", 3, 2, new Float32Array(6)); // an initializer of shape [2, 3]
 * ```
 */
export function transposedFloat(
  b: GraphBuilder,
  initName: string,
  rows: number,
  cols: number,
  data: WeightData,
  half?: "f16" | "bf16",
): string {
  if (!half && typeof data !== "function") {
    return transposedWeight(b, initName, [rows, cols], data);
  }
  const init = b.initializer(
    initName,
    half === undefined ? b.floatType : half === "f16" ? "float16" : "bfloat16",
    [cols, rows],
    {
      byteLength: rows * cols * (half ? 2 : b.floatType === "float64" ? 8 : 4),
      read: () => {
        const t = b.floatType === "float64" && !half
          ? new Float64Array(rows * cols)
          : new Float32Array(rows * cols);
        transposeInto(t, data, rows, cols, rows, 0);
        return half ? toHalfBits(t as Float32Array, half) : t;
      },
    },
  );
  return half ? b.op1("Cast", [init], { to: "float32" }) : init;
}

/**
 * Reads an HF `[rows, cols]` weight row by row and hands each row to `put` (its index and the
 * array and offset holding its values). A streamed weight that reads row slices is read a slice
 * (at most `sliceValues` values, whole rows, at least one) at a time.
 */
function eachRow(
  data: WeightData,
  rows: number,
  cols: number,
  sliceValues: number,
  put: (row: number, src: Float32Array, at: number) => void,
): void {
  const slice = typeof data === "function" && data.rows
    ? Math.max(1, Math.floor(sliceValues / cols))
    : rows;
  for (let r0 = 0; r0 < rows; r0 += slice) {
    const r1 = Math.min(rows, r0 + slice);
    const src = slice === rows ? valuesOf(data) : (data as WeightReader).rows!(r0, r1);
    for (let r = r0; r < r1; r++) put(r, src, (r - r0) * cols);
  }
}

/**
 * Writes an HF `[rows, cols]` weight transposed into `out`, a row-major `[cols, stride]` table, at
 * columns `offset … offset + rows` (stride = rows for a table of its own). A streamed weight that
 * reads row slices is read a slice (at most `sliceValues` values, whole rows, at least one) at a
 * time.
 *
 * @example
 * ```ts
 * import { transposeInto } from "./graph_quant.ts";
 * const out = new Float32Array(2 * 3);
 * transposeInto(out, Float32Array.of(1, 2, 3, 4), 2, 2, 3, 1); // out = [0, 1, 3, 0, 2, 4]
 * ```
 */
export function transposeInto(
  out: Float32Array | Float64Array,
  data: WeightData,
  rows: number,
  cols: number,
  stride: number,
  offset: number,
  sliceValues: number = SLICE_VALUES,
): void {
  eachRow(data, rows, cols, sliceValues, (r, src, at) => {
    for (let c = 0; c < cols; c++) out[c * stride + offset + r] = src[at + c];
  });
}

/** Output features per block of a blocked float32 weight (see {@link blockedLinearWeights}). */
export const BLOCK_FEATURES = 16;

/**
 * Writes an HF `[rows, cols]` weight into `out`, a blocked table `[blocks, cols, 16]` whose block
 * `j` holds output features `16·j … 16·j + 15` as an `[cols, 16]` table, starting at output feature
 * `first`. Streamed weights are read as {@link transposeInto} reads them.
 *
 * @example
 * ```ts
 * import { blockInto } from "./graph_quant.ts";
 * const w = Float32Array.from({ length: 16 * 2 }, (_, i) => i); // [16, 2]
 * const out = new Float32Array(2 * 16);
 * blockInto(out, w, 16, 2, 0); // out[c * 16 + r] = w[r * 2 + c]
 * ```
 */
export function blockInto(
  out: Float32Array,
  data: WeightData,
  rows: number,
  cols: number,
  first: number,
  sliceValues: number = SLICE_VALUES,
): void {
  const B = BLOCK_FEATURES;
  eachRow(data, rows, cols, sliceValues, (r, src, at) => {
    const f = first + r;
    const base = (f - (f % B)) * cols + (f % B);
    for (let c = 0; c < cols; c++) out[base + c * B] = src[at + c];
  });
}

/**
 * Float32 HF `[out, in]` weights that read the same input (one weight, or `gate_proj` with
 * `up_proj`), stored for the engine's one-token products as one blocked initializer
 * `[Σout / 16, in, 16]` (see {@link blockInto}: block `j` holds output features `16·j … 16·j + 15`
 * as an `[in, 16]` table). One MatMul multiplies the input rows, `[1, rows, in]`, by every block
 * at once (`[blocks, rows, 16]`); a Transpose puts the features back in order and a Reshape gives
 * the input's leading axes back; with two weights a Split hands each its features, so `linear`
 * still applies every adapter at its own hook. Returns one product per weight (the first call
 * emits the product; a call with another input is refused), or undefined where they do not
 * qualify: another format, a float64 graph, an output size that 16 does not divide, or different
 * input sizes.
 *
 * Why: MLAS's one-row kernel reads four rows of its right operand at a time, each a stream of its
 * own; over a `[in, 16]` block those four rows are one run of 256 bytes, so each thread reads its
 * share of the blocks as one stream. Measured at M = 1, the Qwen2.5-0.5B shape, 24 distinct
 * weights per product as mapped files, prepacking off, against the layouts of
 * {@link linearWeight} (medians of 48 runs): both cores 896→9728 (gate and up) 51.3 against 41.7
 * GB/s as an `[in, out]` MatMul, 4864→896 34.1 against 31.7 as Gemm(transB), 896→896 28.0
 * against 26.4, 896→128 19.8 against 14.4; one thread 29.4 against 26.9 and 29.7 against 23.3.
 * Prefill is not slower: 24 MLP blocks at 104 / 256 rows took 374 / 826 ms against 386 / 838.
 * The lm_head keeps its transposed table (896→151936: 34.5 against 35.1, the same).
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { blockedLinearWeights } from "./graph_quant.ts";
 * const b = new GraphBuilder();
 * const x = b.input("x", "float32", ["b", "s", 2]);
 * const w = { shape: [16, 2], data: new Float32Array(32) };
 * const f32 = { dtype: "f32", blockSize: 128, accuracyLevel: 4 } as const;
 * const [gate, up] = blockedLinearWeights(b, "gate_up_b16", [w, w], f32)!.map((f) => f(x));
 * ```
 */
export function blockedLinearWeights(
  b: GraphBuilder,
  name: string,
  weights: { shape: number[]; data: WeightData }[],
  format: Required<WeightFormat>,
): ((x: string) => string)[] | undefined {
  if (format.dtype !== "f32" || b.floatType !== "float32" || weights.length === 0) {
    return undefined;
  }
  const cols = weights[0].shape[1];
  const sizes = weights.map((w) => w.shape[0]);
  if (weights.some((w) => w.shape[1] !== cols || w.shape[0] % BLOCK_FEATURES !== 0)) {
    return undefined;
  }
  const total = sizes.reduce((a, n) => a + n, 0);
  const init = b.initializer(name, "float32", [total / BLOCK_FEATURES, cols, BLOCK_FEATURES], {
    byteLength: total * cols * 4,
    read: () => {
      const t = new Float32Array(total * cols);
      let first = 0;
      for (const w of weights) {
        blockInto(t, w.data, w.shape[0], cols, first);
        first += w.shape[0];
      }
      return t;
    },
  });
  let done: { input: string; parts: string[] } | undefined;
  const part = (i: number) => (x: string) => {
    if (done && done.input !== x) {
      throw withCode(
        new RangeError(`${name}: every product of a blocked weight must read the same input`),
        "E_GRAPH",
      );
    }
    if (!done) {
      const rows = b.op1("Reshape", [x, b.constantInt([1, -1, cols], [3])]);
      const blocks = b.op1("MatMul", [rows, init]);
      const ordered = b.op1("Transpose", [blocks], { perm: [1, 0, 2] });
      const y = withLeadingAxes(b, x, ordered, total);
      done = {
        input: x,
        parts: weights.length === 1
          ? [y]
          : b.op("Split", [y, b.constantInt(sizes, [sizes.length])], { axis: -1 }, {
            outputs: sizes.length,
          }),
      };
    }
    return done.parts[i];
  };
  return weights.map((_, i) => part(i));
}

/**
 * `x @ Wᵀ` for an HF `[out, in]` weight through `MatMulNBits` (the weight stays `[out, in]`). A
 * pre-quantized checkpoint's layer at its own bits keeps its levels: blocks within the checkpoint's
 * groups, its zeros as `zero_points`, and an act-order layer first gathers the inputs into group
 * order.
 */
function quantizedProduct(
  b: GraphBuilder,
  name: string,
  rows: number,
  cols: number,
  data: WeightData,
  format: Required<WeightFormat>,
  shared?: { packed: LazyData; scales: LazyData },
): (x: string) => string {
  const bits = bitsOf(format.dtype as "int4" | "int8");
  const own = typeof data === "function" ? data.native : undefined;
  const native = !shared && own?.bits === bits ? own : undefined;
  const bs = native ? native.blockSize : blockSizeFor(cols, format);
  const nb = Math.ceil(cols / bs);
  const q: { packed: LazyData; scales: LazyData; zeros?: LazyData } = shared ??
    (native
      ? readOnce(name, native.read, rows, cols, bits, bs, true)
      : quantizedOnce(name, data, rows, cols, bits, bs));
  const packed = b.initializer(`${name}.q${bits}`, "uint8", [rows, nb, (bs * bits) / 8], q.packed);
  const scales = b.initializer(`${name}.scales`, "float32", [rows * nb], q.scales);
  const zeros = native
    ? [b.initializer(`${name}.zero_points`, "uint8", [q.zeros!.byteLength], q.zeros!)]
    : [];
  const order = native?.order
    ? b.initializer(`${name}.order`, "int64", [cols], BigInt64Array.from(native.order, BigInt))
    : undefined;
  return (x: string) =>
    b.op1("MatMulNBits", [
      order ? b.op1("Gather", [x, order], { axis: -1 }) : x,
      packed,
      scales,
      ...zeros,
    ], {
      K: cols,
      N: rows,
      bits,
      block_size: bs,
      accuracy_level: format.accuracyLevel,
    }, { domain: "com.microsoft" });
}

/**
 * The token embedding `[vocab, hidden]` in the given format. Returns the gathered hidden states
 * and, for tied embeddings, the lm_head weight: the float table (Gemm with transB, as in the
 * float32 graph) or a `MatMulNBits` product over the same quantized bytes (written once).
 * Quantized tables whose hidden size is a multiple of neither the block size nor 32
 * ({@link blockSizeFor}) are stored as the
 * float32 of their dequantized values (the same numbers, without the packing).
 */
export function embedding(
  b: GraphBuilder,
  name: string,
  shape: number[],
  data: WeightData,
  inputIds: string,
  format: Required<WeightFormat>,
  tied: boolean,
): { hidden: string; lmHead?: LinearWeight; hfLayout: boolean } {
  checkFloat32(b, format);
  const [rows, cols] = shape;
  const gather = (table: string) =>
    b.op1("Gather", [table, inputIds], {}, { outputNames: [b.fresh("embed")] });
  if (format.dtype === "f32") {
    const w = b.initializer(
      name,
      "float32",
      shape,
      typeof data === "function" ? { byteLength: rows * cols * 4, read: data } : data,
    );
    return { hidden: gather(w), lmHead: tied ? w : undefined, hfLayout: true };
  }
  if (!isQuantized(format.dtype)) {
    const half = format.dtype;
    const init = b.initializer(name, half === "f16" ? "float16" : "bfloat16", shape, {
      byteLength: rows * cols * 2,
      read: () => toHalfBits(valuesOf(data), half),
    });
    const w = b.op1("Cast", [init], { to: "float32" });
    return { hidden: gather(w), lmHead: tied ? w : undefined, hfLayout: true };
  }
  const bits = bitsOf(format.dtype);
  const bs = blockSizeFor(cols, format);
  const nb = Math.ceil(cols / bs);
  if (cols % bs !== 0) {
    let deq: Float32Array | undefined;
    const table = b.initializer(name, "float32", shape, {
      byteLength: rows * cols * 4,
      read: () => {
        deq ??= dequantizedFloat32(
          named(name, () => quantizeMatrix(valuesOf(data), rows, cols, bits, bs)),
        );
        return deq;
      },
    });
    const lmHead = tied
      ? quantizedProduct(b, `${name}.lm_head`, rows, cols, data, format)
      : undefined;
    return { hidden: gather(table), lmHead, hfLayout: false };
  }
  // Two readers (packed, scales): the writer stores data shared by the lm_head initializers once.
  const q = quantizedOnce(name, data, rows, cols, bits, bs);
  const packed = b.initializer(`${name}.q${bits}`, "uint8", [rows, (cols * bits) / 8], q.packed);
  const scales = b.initializer(`${name}.scales`, "float32", [rows, nb], q.scales);
  const hidden = b.op1("GatherBlockQuantized", [packed, inputIds, scales], {
    gather_axis: 0,
    quantize_axis: 1,
    block_size: bs,
    bits,
  }, { domain: "com.microsoft", outputNames: [b.fresh("embed")] });
  const lmHead = tied
    ? quantizedProduct(b, `${name}.lm_head`, rows, cols, data, format, q)
    : undefined;
  return { hidden, lmHead, hfLayout: false };
}

function dequantizedFloat32(q: QuantizedMatrix): Float32Array {
  const out = new Float32Array(q.rows * q.cols);
  dequantizeInto(q, out);
  return out;
}

/**
 * The graph with its largest `MatMulNBits` product listed first (unchanged without one); the
 * rest keeps its order. For files only onnxruntime opens: the list is no longer topological,
 * which onnxruntime accepts (it orders nodes itself before running them) and the ONNX spec does
 * not.
 *
 * onnxruntime 1.30 repacks quantized weights when a session opens, node by node in the order the
 * graph lists them, and a weight's original (mapped from the data file) stays resident from the
 * moment its node reads it until that node has packed it. In topological order the lm_head comes
 * last, so its original sat on top of every other layer's repacked copy at the peak: at the
 * Qwen2.5-0.5B shape in int4 that is the whole tied embedding table, a quarter of the weights.
 * Listed first, it is packed before the other copies exist. The packing order is onnxruntime's
 * behaviour, not its documented contract: only measurements show the effect. Measured on the 0.5B
 * int4 graph, one process opening it (resident memory sampled every 5 ms): peak 434 MB listed
 * last, 369 MB listed first, settled 372 MB either way; the logits are bit-identical and a decode
 * step runs its kernels in the same order.
 *
 * @example
 * ```ts
 * import { largestProductFirst } from "./graph_quant.ts";
 * const g = { name: "g", inputs: [], outputs: [], initializers: [], nodes: [] };
 * console.log(largestProductFirst(g) === g); // true
 * ```
 */
export function largestProductFirst(graph: Graph): Graph {
  // B (input 1) is uint8 packed levels: its element count is its byte count.
  const sizes = new Map(graph.initializers.map((t) => [t.name, numElements(t.shape)]));
  let best = -1;
  let bestSize = -1;
  graph.nodes.forEach((n, i) => {
    if (n.opType !== "MatMulNBits" || n.domain !== "com.microsoft") return;
    const size = sizes.get(n.inputs[1]) ?? -1;
    if (size > bestSize) [best, bestSize] = [i, size];
  });
  if (best <= 0) return graph;
  const nodes = [graph.nodes[best], ...graph.nodes.filter((_, i) => i !== best)];
  return { ...graph, nodes };
}
