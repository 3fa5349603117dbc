/**
 * Pre-quantized checkpoints: GPTQ (`quant_method: "gptq"`, 4 or 8 bits, checkpoint formats
 * `gptq` and `gptq_v2`, with or without `desc_act`) and AWQ (`quant_method: "awq"`, 4 bits,
 * version `gemm`). {@link DequantizingSource} presents each packed linear layer
 * (`X.qweight`, `X.qzeros`, `X.scales`, `X.g_idx`) as the float32 `X.weight` `[out, in]` the
 * loader expects, dequantized when it is read (one layer at a time, as every other weight is
 * streamed); the engine then stores it in whatever `--dtype` asks for. The settings come from
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
import { type RawTensor, type TensorInfo, type TensorSource, toFloat32 } from "./safetensors.ts";

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
   * The unpacked parts of a packed layer, checked against its shape; the last layer's are kept,
   * since a large weight is read in row slices.
   */
  #parts(name: string): LayerParts {
    if (this.#last?.name === name) return this.#last;
    const [out, inputs] = this.#packed.get(name)!;
    const base = name.replace(/\.weight$/, "");
    const where = this.fileOf(name);
    const { method, bits } = this.#format;
    const per = 32 / bits;
    const groupSize = this.#format.groupSize === -1 ? inputs : this.#format.groupSize;
    const groups = Math.ceil(inputs / groupSize);
    const tensor = (part: string, dtypes: string[], shape: number[]) => {
      const full = `${base}.${part}`;
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
    };
    if (out % per !== 0 || (method === "gptq" && inputs % per !== 0)) {
      bad(
        where,
        `"${base}" has ${inputs} inputs and ${out} outputs; ${bits}-bit packing needs ` +
          `multiples of ${per}`,
      );
    }
    const int32 = ["I32", "U32"];
    const groupOf = new Int32Array(inputs);
    if (method === "gptq" && this.#src.has(`${base}.g_idx`)) {
      const g = tensor("g_idx", ["I32", "I64"], [inputs]).data;
      for (let i = 0; i < inputs; i++) {
        const v = Number(g[i]);
        if (!(v >= 0 && v < groups)) {
          bad(where, `"${base}.g_idx"[${i}] is ${v}; groups run 0..${groups - 1}`);
        }
        groupOf[i] = v;
      }
    } else for (let i = 0; i < inputs; i++) groupOf[i] = Math.floor(i / groupSize);
    this.#last = {
      name,
      qweight: words(
        tensor("qweight", int32, method === "gptq" ? [inputs / per, out] : [inputs, out / per]),
      ),
      qzeros: words(tensor("qzeros", int32, [groups, out / per])),
      scales: toFloat32(tensor("scales", ["F16", "BF16", "F32"], [groups, out])),
      groupOf,
    };
    return this.#last;
  }

  /** Rows `[start, end)` (output features) of a packed weight as float32 `[end − start, in]`. */
  #dequantize(name: string, start: number, end: number): Float32Array {
    const [out, inputs] = this.#packed.get(name)!;
    const { qweight: qw, qzeros: qz, scales, groupOf } = this.#parts(name);
    const { method, bits, zeroOffset } = this.#format;
    const per = 32 / bits;
    const mask = (1 << bits) - 1;
    const result = new Float32Array((end - start) * inputs);
    const groups = scales.length / out;
    const zero = new Float32Array(groups);
    const scale = new Float32Array(groups);
    for (let o = start; o < end; o++) {
      const row = (o - start) * inputs;
      const word = (o / per) | 0;
      // GPTQ packs inputs along a word, AWQ packs outputs (in its own nibble order).
      const shift = method === "gptq" ? (o % per) * bits : AWQ_NIBBLE[o % per] * bits;
      for (let g = 0; g < groups; g++) {
        const stored = qz[g * (out / per) + word] >>> shift;
        // As GPTQ's own dequantizers: the offset is added before the mask, so a zero of 0
        // (stored as -1 in the original format) reads back as 0.
        zero[g] = (stored + zeroOffset) & mask;
        scale[g] = scales[g * out + o];
      }
      if (method === "gptq") {
        for (let k = 0; k < inputs / per; k++) {
          const w = qw[k * out + o];
          for (let j = 0, i = k * per; j < per; j++, i++) {
            const g = groupOf[i];
            result[row + i] = scale[g] * (((w >>> (j * bits)) & mask) - zero[g]);
          }
        }
      } else {
        for (let i = 0; i < inputs; i++) {
          const g = groupOf[i];
          result[row + i] = scale[g] * (((qw[i * (out / per) + word] >>> shift) & mask) - zero[g]);
        }
      }
    }
    return result;
  }
}
