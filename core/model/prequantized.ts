/**
 * Pre-quantized checkpoints: GPTQ (`quant_method: "gptq"`, 4 or 8 bits, checkpoint formats
 * `gptq` and `gptq_v2`, with or without `desc_act`) and AWQ (`quant_method: "awq"`, 4 bits,
 * version `gemm`). {@link DequantizingSource} presents each packed linear layer
 * (`X.qweight`, `X.qzeros`, `X.scales`, `X.g_idx`) as the float32 `X.weight` `[out, in]` the
 * loader expects, dequantized when it is read (one layer at a time, as every other weight is
 * streamed); the engine then stores it in whatever `--dtype` asks for. At the checkpoint's own
 * bits a layer keeps its levels instead ({@link DequantizingSource.native}): `MatMulNBits` runs
 * them with the checkpoint's zeros as zero points, each group as one or more blocks (act-order
 * layers after a gather of their inputs into group order). The settings come from
 * config.json's `quantization_config` or an AutoGPTQ `quantize_config.json`. Other formats
 * (bitsandbytes, EXL2, GPTQ at 2 or 3 bits, AWQ's GEMV layout) are refused with the fix.
 *
 * The layouts (as the GPTQ and AWQ packers write them):
 * - GPTQ: `qweight` int32 `[in / p, out]` with p = 32 / bits values per word, input row
 *   `k·p + j` in bits `j·bits` of word `k`; `qzeros` int32 `[groups, out / p]`, output column
 *   `c·p + j` in bits `j·bits` of word `c`, stored as zero − 1 in the original `gptq` format
 *   (`gptq_v2` stores the zero itself); `scales` `[groups, out]`; `g_idx` int32 `[in]`, the group
 *   of each input (default `floor(i / group_size)`). w = scale · (q − zero).
 * - AWQ (GEMM): `qweight` int32 `[in, out / 8]`, output column `c·8 + k` in nibble
 *   `[0, 4, 1, 5, 2, 6, 3, 7][k]` of word `c`; `qzeros` int32 `[groups, out / 8]` packed the same
 *   way (the zero itself); `scales` `[groups, out]`; group of input i = `floor(i / group_size)`.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../errors.ts";
import { readOptionalJson } from "../util/fs.ts";
import {
  openSafetensorsDir,
  type RawTensor,
  type TensorInfo,
  type TensorSource,
  toFloat32,
} from "./safetensors.ts";
import type { QuantizedMatrix } from "./quantize.ts";

/**
 * A packed layer's own levels, ready for `MatMulNBits` with zero points: blocks of `blockSize`
 * inputs (which divides the group size, so a group is one or more blocks repeating its scale and
 * zero) taken in `order` (act-order checkpoints: the inputs sorted by group, so each group's
 * inputs are consecutive; absent when they already are).
 */
export interface NativeLayer {
  bits: 4 | 8;
  blockSize: number;
  /** Input feature of each column of the matrix {@link NativeLayer.read} gives. */
  order?: Int32Array;
  /** The `[out, in]` levels (columns in `order`), their scales and zeros. */
  read(): QuantizedMatrix;
}

/** Block sizes `MatMulNBits` runs from its repacked layout on the CPU (powers of two, 16–256). */
const NATIVE_BLOCKS = [16, 32, 64, 128, 256];

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A parsed `quantization_config` this loader reads. */
export interface PrequantizedFormat {
  method: "gptq" | "awq";
  bits: 4 | 8;
  /** Inputs per group (`-1` in the config: one group over all inputs). */
  groupSize: number;
  /** Added to each stored zero: 1 for GPTQ's original format, 0 otherwise. */
  zeroOffset: number;
}

/** AWQ's nibble of output column `c·8 + k` within word `c`. */
const AWQ_NIBBLE = [0, 4, 1, 5, 2, 6, 3, 7];

/** A packed tensor's 32-bit words (I32 or U32 alike: only the bits are read). */
function words(t: RawTensor): Int32Array {
  const d = t.data;
  return new Int32Array(d.buffer, d.byteOffset, d.byteLength / 4);
}

function bad(where: string, message: string): never {
  throw withCode(new TypeError(`${where}: ${message}`), "E_WEIGHTS");
}

/**
 * Reads a config.json `quantization_config`; `undefined` when there is none. Formats this loader
 * cannot read throw E_WEIGHTS naming the field and the fix.
 *
 * @example
 * ```ts
 * import { parsePrequantized } from "./prequantized.ts";
 * parsePrequantized({ quant_method: "gptq", bits: 4, group_size: 128 }, "config.json")?.zeroOffset; // 1
 * ```
 */
export function parsePrequantized(qc: unknown, where: string): PrequantizedFormat | undefined {
  if (qc === undefined || qc === null) return undefined;
  if (typeof qc !== "object") bad(where, `quantization_config is ${JSON.stringify(qc)}`);
  const c = qc as Record<string, unknown>;
  const method = String(c.quant_method ?? "").toLowerCase();
  const fix = "use the model's F16/BF16/F32 checkpoint (Dramatis quantizes it: --dtype int8 or " +
    "int4), or a GPTQ (4 or 8 bits) or AWQ (4 bits, GEMM) one";
  if (method !== "gptq" && method !== "awq") {
    bad(
      where,
      `quantization_config.quant_method is ${JSON.stringify(c.quant_method ?? null)}, which ` +
        `does not load; ${fix}`,
    );
  }
  const bits = c.bits ?? c.w_bit;
  if (!(bits === 4 || (bits === 8 && method === "gptq"))) {
    bad(
      where,
      `quantization_config.bits is ${JSON.stringify(bits ?? null)} (${method}); ` +
        `${method === "gptq" ? "4 or 8" : "4"} bits load; ${fix}`,
    );
  }
  const groupSize = c.group_size ?? c.q_group_size;
  if (!(groupSize === -1 || (Number.isInteger(groupSize) && (groupSize as number) > 0))) {
    bad(where, `quantization_config.group_size is ${JSON.stringify(groupSize ?? null)}; ${fix}`);
  }
  let zeroOffset = 0;
  if (method === "gptq") {
    const format = String(c.checkpoint_format ?? "gptq").toLowerCase();
    if (format !== "gptq" && format !== "gptq_v2") {
      bad(
        where,
        `quantization_config.checkpoint_format is ${JSON.stringify(c.checkpoint_format)}; ` +
          `"gptq" and "gptq_v2" load (convert others with GPTQModel); ${fix}`,
      );
    }
    zeroOffset = format === "gptq" ? 1 : 0;
  } else {
    const version = String(c.version ?? "gemm").toLowerCase();
    if (version !== "gemm") {
      bad(
        where,
        `quantization_config.version is ${JSON.stringify(c.version)}; AWQ loads in the "gemm" ` +
          `layout only (re-save it with version "gemm"); ${fix}`,
      );
    }
    if (c.zero_point === false) {
      bad(where, `quantization_config.zero_point is false (AWQ without zeros); ${fix}`);
    }
  }
  return { method, bits, groupSize, zeroOffset } as PrequantizedFormat;
}

/** One packed layer, unpacked to words, float scales and each input's group. */
interface LayerParts {
  name: string;
  qweight: Int32Array;
  qzeros: Int32Array;
  scales: Float32Array;
  groupOf: Int32Array;
}

/**
 * A model directory's quantization settings and the file they came from: config.json's
 * `quantization_config`, else an AutoGPTQ-style `quantize_config.json` beside it (read as GPTQ
 * unless it names a method), else `undefined`.
 *
 * @example
 * ```ts ignore
 * import { readQuantizationConfig } from "./prequantized.ts";
 * const q = await readQuantizationConfig("models/llama-2-7b-chat-gptq", configJson);
 * console.log(q?.path, q?.config);
 * ```
 */
export async function readQuantizationConfig(
  dir: string,
  configJson: unknown,
): Promise<{ config: unknown; path: string } | undefined> {
  const qc = (configJson as { quantization_config?: unknown } | undefined)?.quantization_config;
  if (qc !== undefined) return { config: qc, path: join(dir, "config.json") };
  const path = join(dir, "quantize_config.json");
  const parsed = await readOptionalJson(path, "E_WEIGHTS");
  if (parsed === undefined) return undefined;
  if (typeof parsed !== "object" || parsed === null) bad(path, "is not a JSON object");
  return { config: { quant_method: "gptq", ...(parsed as Record<string, unknown>) }, path };
}

/**
 * The dtype a pre-quantized checkpoint is stored in when none is asked for: `int4` or `int8` by
 * its bits (blocks of 32 where its groups are that small), `undefined` for other checkpoints.
 *
 * @example
 * ```ts
 * import { prequantizedDtype } from "./prequantized.ts";
 * prequantizedDtype({ quant_method: "awq", bits: 4, group_size: 128 }); // "int4"
 * ```
 */
export function prequantizedDtype(quantizationConfig: unknown): string | undefined {
  const qc = quantizationConfig as Record<string, unknown> | undefined;
  const method = String(qc?.quant_method ?? "").toLowerCase();
  if (!qc || (method !== "gptq" && method !== "awq")) return undefined;
  const bits = qc.bits ?? qc.w_bit;
  const group = Number(qc.group_size ?? qc.q_group_size);
  const dtype = bits === 8 ? "int8" : bits === 4 ? "int4" : undefined;
  return dtype && group > 0 && group <= 32 ? `${dtype}:32` : dtype;
}

/**
 * The dtype a model directory is stored in when none is asked for: {@link prequantizedDtype} of
 * its quantization settings (config.json or `quantize_config.json`) where its safetensors hold
 * packed layers (`*.qweight`), `undefined` for a float checkpoint.
 *
 * @example
 * ```ts ignore
 * import { checkpointDtype } from "./prequantized.ts";
 * console.log(await checkpointDtype("models/llama-2-7b-chat-gptq", configJson)); // "int4"
 * ```
 */
export async function checkpointDtype(
  dir: string,
  configJson: unknown,
): Promise<string | undefined> {
  const dtype = prequantizedDtype((await readQuantizationConfig(dir, configJson))?.config);
  if (!dtype) return undefined;
  // Settings without packed layers (a float model written from a quantized one) do not count.
  const src = await openSafetensorsDir(dir);
  try {
    return src.names().some((n) => n.endsWith(".qweight")) ? dtype : undefined;
  } finally {
    src.close();
  }
}

/**
 * A tensor source that shows packed GPTQ/AWQ linear layers as float32 `X.weight` tensors and
 * passes every other tensor through.
 */
export class DequantizingSource implements TensorSource {
  readonly #src: TensorSource;
  readonly #format: PrequantizedFormat;
  /** Dequantized weight name → its `[out, in]` shape. */
  readonly #packed = new Map<string, number[]>();
  #last?: LayerParts;

  /**
   * @param shapes the float shapes the loader will ask for (`[out, in]` per linear weight): a
   *   weight missing from `src` whose `qweight` is there is read from the packed tensors.
   */
  constructor(src: TensorSource, format: PrequantizedFormat, shapes: Map<string, number[]>) {
    this.#src = src;
    this.#format = format;
    for (const [name, shape] of shapes) {
      const base = name.replace(/\.weight$/, "");
      if (name.endsWith(".weight") && !src.has(name) && src.has(`${base}.qweight`)) {
        this.#packed.set(name, shape);
      }
    }
  }

  names(): string[] {
    const parts = /\.(qweight|qzeros|scales|g_idx)$/;
    return [
      ...this.#src.names().filter((n) => !parts.test(n)),
      ...this.#packed.keys(),
    ];
  }
  has(name: string): boolean {
    return this.#packed.has(name) || this.#src.has(name);
  }
  info(name: string): TensorInfo | undefined {
    const shape = this.#packed.get(name);
    return shape
      ? { dtype: "F32", shape: shape.slice(), dataOffsets: [0, 0] }
      : this.#src.info(name);
  }
  fileOf(name: string): string {
    return this.#src.fileOf(this.#packed.has(name) ? name.replace(/\.weight$/, ".qweight") : name);
  }
  read(name: string): Promise<RawTensor> {
    return Promise.resolve().then(() => this.readSync(name));
  }
  readSync(name: string): RawTensor {
    const shape = this.#packed.get(name);
    if (!shape) return this.#src.readSync(name);
    return { dtype: "F32", shape: shape.slice(), data: this.#dequantize(name, 0, shape[0]) };
  }
  readF32(name: string): Promise<Float32Array> {
    return Promise.resolve().then(() => this.readF32Sync(name));
  }
  readF32Sync(name: string): Float32Array {
    const shape = this.#packed.get(name);
    return shape ? this.#dequantize(name, 0, shape[0]) : this.#src.readF32Sync(name);
  }
  readF32RowsSync(name: string, start: number, end: number): Float32Array {
    const shape = this.#packed.get(name);
    if (!shape) return this.#src.readF32RowsSync(name, start, end);
    if (
      !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end &&
        end <= shape[0])
    ) {
      bad(this.fileOf(name), `rows [${start}, ${end}) of "${name}" are outside its ${shape[0]}`);
    }
    return this.#dequantize(name, start, end);
  }
  close(): void {
    this.#src.close();
  }

  /**
   * Packed layer `name`'s own levels for a `MatMulNBits` with zero points, or `undefined` when
   * its groups cannot be blocks of that op (a group size, or for one group the input count, that
   * no power of two from 16 to 256 divides; act-order groups of unequal sizes): such a layer is
   * dequantized and stored in the asked dtype instead.
   */
  native(name: string): NativeLayer | undefined {
    const shape = this.#packed.get(name);
    if (!shape) return undefined;
    const inputs = shape[1];
    const groupSize = this.#groupSize(inputs);
    // A group larger than the op's blocks (one group over all inputs, groups of 512) is split
    // into blocks that repeat its scale and zero.
    const blockSize = NATIVE_BLOCKS.findLast((b) => groupSize % b === 0);
    if (blockSize === undefined) return undefined;
    const order = groupOrder(this.#groupOf(name), groupSize);
    if (order === null) return undefined;
    return {
      bits: this.#format.bits,
      blockSize,
      ...(order ? { order } : {}),
      read: () => this.#levels(name, blockSize, groupSize, order),
    };
  }

  /** Inputs per group of a layer with `inputs` inputs (`group_size` -1: one group). */
  #groupSize(inputs: number): number {
    return this.#format.groupSize === -1 ? inputs : this.#format.groupSize;
  }

  /** Each input's group: `g_idx` where a GPTQ layer has one, else consecutive groups. */
  #groupOf(name: string): Int32Array {
    const inputs = this.#packed.get(name)![1];
    const base = name.replace(/\.weight$/, "");
    const groupSize = this.#groupSize(inputs);
    const groups = Math.ceil(inputs / groupSize);
    const groupOf = new Int32Array(inputs);
    if (this.#format.method === "gptq" && this.#src.has(`${base}.g_idx`)) {
      const g = this.#tensor(name, "g_idx", ["I32", "I64"], [inputs]).data;
      for (let i = 0; i < inputs; i++) {
        const v = Number(g[i]);
        if (!(v >= 0 && v < groups)) {
          bad(this.fileOf(name), `"${base}.g_idx"[${i}] is ${v}; groups run 0..${groups - 1}`);
        }
        groupOf[i] = v;
      }
    } else for (let i = 0; i < inputs; i++) groupOf[i] = Math.floor(i / groupSize);
    return groupOf;
  }

  /** Part `part` of packed layer `name` (`qweight`, …), its dtype and shape checked. */
  #tensor(name: string, part: string, dtypes: string[], shape: number[]): RawTensor {
    const [out, inputs] = this.#packed.get(name)!;
    const full = `${name.replace(/\.weight$/, "")}.${part}`;
    const where = this.fileOf(name);
    const { method, bits } = this.#format;
    const info = this.#src.info(full);
    if (!info) {
      bad(where, `"${full}" is missing; a ${method} layer needs qweight, qzeros and scales`);
    }
    if (!dtypes.includes(info.dtype)) {
      bad(where, `"${full}" has dtype ${info.dtype}; expected ${dtypes.join(" or ")}`);
    }
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      bad(
        where,
        `"${full}" has shape [${info.shape.join(", ")}] but a ${bits}-bit ${method} layer of ` +
          `[${out}, ${inputs}] with group_size ${this.#format.groupSize} needs ` +
          `[${shape.join(", ")}]; the checkpoint and its quantization_config disagree`,
      );
    }
    return this.#src.readSync(full);
  }

  /**
   * The unpacked parts of a packed layer, checked against its shape; the last layer's are kept,
   * since a large weight is read in row slices.
   */
  #parts(name: string): LayerParts {
    if (this.#last?.name === name) return this.#last;
    const [out, inputs] = this.#packed.get(name)!;
    const { method, bits } = this.#format;
    const per = 32 / bits;
    const groupSize = this.#groupSize(inputs);
    const groups = Math.ceil(inputs / groupSize);
    if (out % per !== 0 || (method === "gptq" && inputs % per !== 0)) {
      bad(
        this.fileOf(name),
        `"${name.replace(/\.weight$/, "")}" has ${inputs} inputs and ${out} outputs; ${bits}-bit ` +
          `packing needs multiples of ${per}`,
      );
    }
    const int32 = ["I32", "U32"];
    const groupOf = this.#groupOf(name);
    this.#last = {
      name,
      qweight: words(
        this.#tensor(
          name,
          "qweight",
          int32,
          method === "gptq" ? [inputs / per, out] : [inputs, out / per],
        ),
      ),
      qzeros: words(this.#tensor(name, "qzeros", int32, [groups, out / per])),
      scales: toFloat32(this.#tensor(name, "scales", ["F16", "BF16", "F32"], [groups, out])),
      groupOf,
    };
    return this.#last;
  }

  /** A packed layer's zero of each group for output `o` (stored + offset, masked as GPTQ does). */
  #zerosOf(parts: LayerParts, out: number, o: number, into: Uint8Array | Float32Array): void {
    const { method, bits, zeroOffset } = this.#format;
    const per = 32 / bits;
    const mask = (1 << bits) - 1;
    const word = (o / per) | 0;
    const shift = method === "gptq" ? (o % per) * bits : AWQ_NIBBLE[o % per] * bits;
    for (let g = 0; g < into.length; g++) {
      // As GPTQ's own dequantizers: the offset is added before the mask, so a zero of 0
      // (stored as -1 in the original format) reads back as 0.
      into[g] = ((parts.qzeros[g * (out / per) + word] >>> shift) + zeroOffset) & mask;
    }
  }

  /** A packed layer's levels of output `o`, every input in order, into `row`. */
  #levelRow(parts: LayerParts, out: number, o: number, row: Uint8Array): void {
    const { method, bits } = this.#format;
    const per = 32 / bits;
    const mask = (1 << bits) - 1;
    const qw = parts.qweight;
    if (method === "gptq") {
      // GPTQ packs `per` consecutive inputs into a word, low bits first.
      for (let k = 0, i = 0; i < row.length; k++) {
        let w = qw[k * out + o];
        for (let j = 0; j < per; j++, i++, w >>>= bits) row[i] = w & mask;
      }
    } else {
      // AWQ packs outputs, in its own nibble order.
      const stride = out / per;
      const word = (o / per) | 0;
      const shift = AWQ_NIBBLE[o % per] * bits;
      for (let i = 0; i < row.length; i++) row[i] = (qw[i * stride + word] >>> shift) & mask;
    }
  }

  /** The layer's levels as a block-quantized matrix, columns in `order`, blocks within groups. */
  #levels(
    name: string,
    blockSize: number,
    groupSize: number,
    order: Int32Array | undefined,
  ): QuantizedMatrix {
    const [out, inputs] = this.#packed.get(name)!;
    const parts = this.#parts(name);
    const { bits, method } = this.#format;
    const nb = Math.ceil(inputs / blockSize);
    const blob = (blockSize * bits) / 8;
    const packed = new Uint8Array(out * nb * blob);
    const scales = new Float32Array(out * nb);
    const zeros = new Uint8Array(out * nb);
    const groups = Math.ceil(inputs / groupSize);
    const zero = new Uint8Array(groups);
    const levels = new Uint8Array(inputs);
    // GPTQ's words in input order are already MatMulNBits's bytes (consecutive inputs from the
    // low bits up; the inputs a multiple of the values per word, as #parts checks; a
    // little-endian host, as onnxruntime's CPU builds are): each output's row is its words.
    const words = method === "gptq" && !order && LITTLE_ENDIAN
      ? new Int32Array(packed.buffer)
      : undefined;
    const rowWords = (nb * blob) / 4;
    // AWQ's words each hold 8 outputs' levels at one input: written after the blocks' padding, a
    // word at a time (a row at a time read each word for one nibble: 7.0 against 4.7 ns a weight).
    const awq = method === "awq" && !order && bits === 4;
    for (let o = 0; o < out; o++) {
      this.#zerosOf(parts, out, o, zero);
      for (let k = 0; k < nb; k++) {
        // Blocks divide groups: block k lies in group (k · blockSize) / groupSize.
        const g = Math.floor((k * blockSize) / groupSize);
        zeros[o * nb + k] = zero[g];
        scales[o * nb + k] = parts.scales[g * out + o];
        // A last partial block is padded with its zero (value 0).
        const z = bits === 4 ? zero[g] | (zero[g] << 4) : zero[g];
        packed.fill(z, (o * nb + k) * blob, (o * nb + k + 1) * blob);
      }
      if (words) {
        const qw = parts.qweight;
        for (let k = 0; k < (inputs * bits) / 32; k++) words[o * rowWords + k] = qw[k * out + o];
        continue;
      }
      if (awq) continue;
      this.#levelRow(parts, out, o, levels);
      const row = o * nb * blob;
      for (let j = 0; j < inputs; j++) {
        const v = levels[order ? order[j] : j];
        const k = (j / blockSize) | 0;
        const pos = j - k * blockSize;
        if (bits === 8) packed[row + k * blob + pos] = v;
        else {
          const at = row + k * blob + (pos >> 1);
          packed[at] = pos & 1 ? (packed[at] & 0x0f) | (v << 4) : (packed[at] & 0xf0) | v;
        }
      }
    }
    if (awq) {
      const qw = parts.qweight;
      const stride = out / 8;
      const rowBytes = nb * blob;
      for (let c = 0; c < stride; c++) {
        const base = c * 8 * rowBytes;
        for (let i = 0; i < inputs; i++) {
          const w = qw[i * stride + c];
          const k = (i / blockSize) | 0;
          const pos = i - k * blockSize;
          const at = base + k * blob + (pos >> 1);
          for (let n = 0; n < 8; n++) {
            const v = (w >>> (AWQ_NIBBLE[n] * 4)) & 15;
            const p = at + n * rowBytes;
            packed[p] = pos & 1 ? (packed[p] & 0x0f) | (v << 4) : (packed[p] & 0xf0) | v;
          }
        }
      }
    }
    return { rows: out, cols: inputs, bits, blockSize, blocksPerRow: nb, packed, scales, zeros };
  }

  /** Rows `[start, end)` (output features) of a packed weight as float32 `[end − start, in]`. */
  #dequantize(name: string, start: number, end: number): Float32Array {
    const [out, inputs] = this.#packed.get(name)!;
    const parts = this.#parts(name);
    const { scales, groupOf } = parts;
    const result = new Float32Array((end - start) * inputs);
    const groups = scales.length / out;
    const zero = new Float32Array(groups);
    const scale = new Float32Array(groups);
    const levels = new Uint8Array(inputs);
    for (let o = start; o < end; o++) {
      const row = (o - start) * inputs;
      this.#zerosOf(parts, out, o, zero);
      for (let g = 0; g < groups; g++) scale[g] = scales[g * out + o];
      this.#levelRow(parts, out, o, levels);
      for (let i = 0; i < inputs; i++) {
        const g = groupOf[i];
        result[row + i] = scale[g] * (levels[i] - zero[g]);
      }
    }
    return result;
  }
}

/**
 * The input order that makes each group `groupSize` consecutive columns: `undefined` when the
 * groups already are (`group(i) = floor(i / groupSize)`), `null` when no order can (a group of
 * another size than `groupSize`, short only for the last).
 */
function groupOrder(groupOf: Int32Array, groupSize: number): Int32Array | undefined | null {
  const n = groupOf.length;
  const groups = Math.ceil(n / groupSize);
  if (groupOf.every((g, i) => g === Math.floor(i / groupSize))) return undefined;
  const count = new Int32Array(groups);
  for (const g of groupOf) count[g]++;
  for (let g = 0; g < groups; g++) {
    if (count[g] !== Math.min(groupSize, n - g * groupSize)) return null;
  }
  const next = Int32Array.from({ length: groups }, (_, g) => g * groupSize);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[next[groupOf[i]]++] = i;
  return order;
}
