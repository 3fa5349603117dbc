/**
 * Test-only: GPTQ and AWQ checkpoints packed from a model directory's float weights, for the
 * pre-quantized loader's tests. Never import this from non-test code.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Prng } from "../../util/prng.ts";
import { readDecoderConfig } from "../config.ts";
import { f16ToF32, f32ToF16, type RawTensor, writeSafetensors } from "../safetensors.ts";
import { loadWeights } from "../weights.ts";
import { dequantizedWeights, type WeightFormat } from "../quantize.ts";

// Test-side packers, written from the packers' published layouts (the pack direction; the loader
// implements the unpack direction): GPTQ packs `per = 32 / bits` consecutive input rows into one
// word, low bits first, and its zeros `per` consecutive output columns into one word, stored as
// zero − 1 in the original format; AWQ packs output columns `c·8 + ORDER[n]` into nibble n of
// word c. Every level is quantized round-to-nearest from the model's own float weights, and the
// reference weight is scale · (q − zero) with the scale as stored (float16).

const AWQ_PACK_ORDER = [0, 2, 4, 6, 1, 3, 5, 7];
export const LINEAR = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/;

export interface Packing {
  method: "gptq" | "awq";
  bits: 4 | 8;
  groupSize: number; // -1: one group
  format?: "gptq" | "gptq_v2";
  /** GPTQ act-order: a seeded permutation decides each input's group (g_idx). */
  actOrder?: boolean;
  /**
   * Change the model so every layer has zeros of 0: output row 0 is made non-negative (the
   * reference holds the changed weights).
   */
  zeroRow?: boolean;
  /** GPTQ without a g_idx tensor (older checkpoints): groups follow the inputs. */
  noGIdx?: boolean;
  /**
   * The reference's embedding (and untied lm_head) as the engine stores them in this format
   * (quantized and dequantized), so that a graph of the packed model at these bits and the
   * reference at f32 compute with the same numbers (the packed model keeps the float tables).
   */
  tables?: WeightFormat;
}

/** Levels, zeros and float16 scales of `w` `[out, in]`, and the weight they stand for. */
function quantize(w: Float32Array, out: number, inputs: number, p: Packing, seed: number) {
  const size = p.groupSize === -1 ? inputs : p.groupSize;
  const groups = Math.ceil(inputs / size);
  const groupOf = new Int32Array(inputs);
  const order = Array.from({ length: inputs }, (_, i) => i);
  if (p.actOrder) {
    const r = new Prng(seed);
    for (let i = inputs - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  order.forEach((input, rank) => groupOf[input] = Math.floor(rank / size));
  const top = (1 << p.bits) - 1;
  const q = new Int32Array(inputs * out); // [in, out]
  const zero = new Int32Array(groups * out);
  const scale = new Float32Array(groups * out);
  for (let g = 0; g < groups; g++) {
    for (let o = 0; o < out; o++) {
      let lo = 0, hi = 0;
      for (let i = 0; i < inputs; i++) {
        if (groupOf[i] !== g) continue;
        lo = Math.min(lo, w[o * inputs + i]);
        hi = Math.max(hi, w[o * inputs + i]);
      }
      const s = f16ToF32(f32ToF16([Math.max(hi - lo, 1e-6) / top]))[0];
      const z = Math.min(top, Math.max(0, Math.round(-lo / s)));
      scale[g * out + o] = s;
      zero[g * out + o] = z;
      for (let i = 0; i < inputs; i++) {
        if (groupOf[i] !== g) continue;
        q[i * out + o] = Math.min(top, Math.max(0, Math.round(w[o * inputs + i] / s) + z));
      }
    }
  }
  const ref = new Float32Array(out * inputs);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inputs; i++) {
      const g = groupOf[i];
      ref[o * inputs + i] = scale[g * out + o] * (q[i * out + o] - zero[g * out + o]);
    }
  }
  return { q, zero, scale, groupOf, groups, ref };
}

/** The packed tensors of one layer. */
function pack(
  base: string,
  out: number,
  inputs: number,
  p: Packing,
  z: ReturnType<typeof quantize>,
): Record<string, RawTensor> {
  const per = 32 / p.bits;
  const scales: RawTensor = {
    dtype: "F16",
    shape: [z.groups, out],
    data: f32ToF16(z.scale),
  };
  if (p.method === "gptq") {
    const offset = (p.format ?? "gptq") === "gptq" ? 1 : 0;
    const qweight = new Int32Array((inputs / per) * out);
    for (let row = 0; row < inputs / per; row++) {
      for (let o = 0; o < out; o++) {
        let word = 0;
        for (let j = 0; j < per; j++) word |= z.q[(row * per + j) * out + o] << (p.bits * j);
        qweight[row * out + o] = word;
      }
    }
    const qzeros = new Int32Array(z.groups * (out / per));
    for (let g = 0; g < z.groups; g++) {
      for (let c = 0; c < out / per; c++) {
        let word = 0;
        for (let j = 0; j < per; j++) {
          word |= ((z.zero[g * out + c * per + j] - offset) & ((1 << p.bits) - 1)) << (p.bits * j);
        }
        qzeros[g * (out / per) + c] = word;
      }
    }
    return {
      [`${base}.qweight`]: { dtype: "I32", shape: [inputs / per, out], data: qweight },
      [`${base}.qzeros`]: { dtype: "I32", shape: [z.groups, out / per], data: qzeros },
      [`${base}.scales`]: scales,
      ...(p.noGIdx ? {} : {
        [`${base}.g_idx`]: { dtype: "I32", shape: [inputs], data: z.groupOf },
      }),
    };
  }
  const word = (levels: Int32Array, row: number, c: number) => {
    let w = 0;
    for (let n = 0; n < 8; n++) w |= levels[row * out + c * 8 + AWQ_PACK_ORDER[n]] << (4 * n);
    return w;
  };
  const qweight = new Int32Array(inputs * (out / 8));
  for (let i = 0; i < inputs; i++) {
    for (let c = 0; c < out / 8; c++) qweight[i * (out / 8) + c] = word(z.q, i, c);
  }
  const qzeros = new Int32Array(z.groups * (out / 8));
  for (let g = 0; g < z.groups; g++) {
    for (let c = 0; c < out / 8; c++) qzeros[g * (out / 8) + c] = word(z.zero, g, c);
  }
  return {
    [`${base}.qweight`]: { dtype: "I32", shape: [inputs, out / 8], data: qweight },
    [`${base}.qzeros`]: { dtype: "I32", shape: [z.groups, out / 8], data: qzeros },
    [`${base}.scales`]: scales,
  };
}

/**
 * Writes `root/packed` (the tiny model with its linear layers packed as `p` says) and
 * `root/reference` (the same model with each linear weight replaced by what its levels stand for).
 */
export async function packedModel(root: string, src: string, p: Packing) {
  const config = await readDecoderConfig(src);
  const weights = await loadWeights(src, config);
  const packed: Record<string, RawTensor> = {};
  const reference: Record<string, RawTensor> = {};
  let seed = 1;
  for (const [name, t] of weights) {
    if (!LINEAR.test(name)) {
      packed[name] = reference[name] = { dtype: "F32", shape: t.shape, data: t.data };
      if (p.tables && t.shape.length === 2) {
        const stored = dequantizedWeights(new Map([[name, t]]), p.tables).get(name)!.data;
        reference[name] = { dtype: "F32", shape: t.shape, data: stored };
      }
      continue;
    }
    const [out, inputs] = t.shape;
    if (p.zeroRow) {
      // Output row 0 non-negative: its zeros are 0, which GPTQ's original format stores as -1.
      for (let i = 0; i < inputs; i++) t.data[i] = Math.abs(t.data[i]);
    }
    const z = quantize(t.data, out, inputs, p, seed++);
    if (p.zeroRow) assert.ok(z.zero.some((v) => v === 0));
    Object.assign(packed, pack(name.replace(/\.weight$/, ""), out, inputs, p, z));
    reference[name] = { dtype: "F32", shape: t.shape, data: z.ref };
  }
  const raw = JSON.parse(await Deno.readTextFile(join(src, "config.json")));
  const dirs = { packed: join(root, "packed"), reference: join(root, "reference") };
  for (const [kind, dir] of Object.entries(dirs)) {
    await Deno.mkdir(dir);
    for (const f of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) {
      await Deno.copyFile(join(src, f), join(dir, f)).catch(() => {});
    }
    const cfg = { ...raw };
    if (kind === "packed") {
      cfg.quantization_config = p.method === "gptq"
        ? {
          quant_method: "gptq",
          bits: p.bits,
          group_size: p.groupSize,
          desc_act: p.actOrder ?? false,
          sym: false,
          ...(p.format ? { checkpoint_format: p.format } : {}),
        }
        : {
          quant_method: "awq",
          bits: 4,
          group_size: p.groupSize,
          zero_point: true,
          version: "gemm",
        };
    }
    await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(cfg));
    await writeSafetensors(
      join(dir, "model.safetensors"),
      kind === "packed" ? packed : reference,
    );
  }
  return dirs;
}
