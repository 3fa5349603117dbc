/**
 * The linear layers of a model alone: one onnxruntime session holding every layer's q, k, v, o,
 * gate, up and down products at a model shape (distinct seeded weights per matrix, so nothing is
 * shared or cached across layers), run at M tokens per call. It separates the matmul kernels'
 * cost from the rest of a prefill or decode call, for each way onnxruntime can compute them:
 *
 * - `int4` / `int4:32` / `int8` / `int8:32` (`MatMulNBits`, blocks of 128 unless `:32`,
 *   `--accuracy-level`, default 4 = int8 compute; `+zp` adds a zero point per block, as a
 *   GPTQ/AWQ checkpoint runs on its own levels),
 *   optionally `--fused` (q/k/v as one product, gate/up as one);
 * - `qgemm` (`DynamicQuantizeMatMul`: int8 weights with one scale per output column, MLAS's
 *   integer GEMM — a different, larger weight format, measured as the alternative);
 * - `f32` (`MatMul` on float32 weights).
 *
 * deno run -A benchmark/quant_matmul_chain.ts [--shape qwen2.5-0.5b] [--m 64] [--runs 6]
 *   [--threads 1] [--accuracy-level 4] [--fused] int4 int4:32 qgemm f32 ...
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../core/onnx/builder.ts";
import { makeModel } from "../core/onnx/ir.ts";
import { serializeModel } from "../core/onnx/serialize.ts";
import { defaultBlockSize, parseWeightFormat } from "../core/model/quantize.ts";
import { SHAPES } from "./decode.ts";

/** Sizes of one decoder layer's linear products. */
export interface ChainShape {
  layers: number;
  hidden: number;
  intermediate: number;
  /** Output features of k and v (kv heads × head size). */
  kv: number;
}

/** One form of the products: a weight format and how its kernel is asked to compute. */
export interface ChainForm {
  kind: "nbits" | "qgemm" | "f32";
  bits?: 4 | 8;
  blockSize?: number;
  accuracyLevel?: number;
  /** q/k/v as one product and gate/up as one (one quantization of the input each). */
  fused?: boolean;
  /** A uint8 zero point per block (`MatMulNBits`'s `zero_points`). */
  zeroPoints?: boolean;
}

/** The ONNX model of the chain and the bytes of its weights as stored. */
export function chainModel(
  shape: ChainShape,
  m: number,
  form: ChainForm,
): { model: Uint8Array; weightBytes: number } {
  const b = new GraphBuilder();
  const { hidden: H, intermediate: I, kv: KV } = shape;
  const x = b.input("x", "float32", [m, H]);
  const u = b.input("u", "float32", [m, I]);
  let serial = 0;
  let weightBytes = 0;
  // Seeded, distinct bytes per matrix (a hash of position and matrix number).
  const bytes = (n: number) => {
    const s = ++serial * 0x9e3779b1;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (Math.imul(i + s, 2654435761) >>> 24) & 0xff;
    return out;
  };
  const product = (input: string, K: number, N: number): string => {
    if (form.kind === "f32") {
      const seed = ++serial;
      const w = new Float32Array(K * N).map((_, i) => ((i * 13 + seed) % 17 - 8) * 1e-3);
      weightBytes += w.byteLength;
      return b.op1("MatMul", [input, b.initializer(b.fresh("w"), "float32", [K, N], w)]);
    }
    if (form.kind === "qgemm") {
      const w = new Int8Array(bytes(K * N).buffer);
      const scales = new Float32Array(N).fill(1e-3);
      weightBytes += w.byteLength + scales.byteLength;
      return b.op1(
        "DynamicQuantizeMatMul",
        [
          input,
          b.initializer(b.fresh("w"), "int8", [K, N], w),
          b.initializer(b.fresh("s"), "float32", [N], scales),
        ],
        {},
        { domain: "com.microsoft" },
      );
    }
    const bits = form.bits ?? 4;
    const bs = form.blockSize ?? defaultBlockSize(bits === 4 ? "int4" : "int8");
    const nb = Math.ceil(K / bs);
    const packed = bytes(N * nb * (bs * bits) / 8);
    const scales = new Float32Array(N * nb).map((_, i) => 1e-3 * (1 + ((i + serial) % 7)));
    weightBytes += packed.byteLength + scales.byteLength;
    const zeros = form.zeroPoints ? bytes(N * Math.ceil((nb * bits) / 8)) : undefined;
    weightBytes += zeros?.byteLength ?? 0;
    return b.op1("MatMulNBits", [
      input,
      b.initializer(b.fresh("q"), "uint8", [N, nb, (bs * bits) / 8], packed),
      b.initializer(b.fresh("s"), "float32", [N * nb], scales),
      ...(zeros ? [b.initializer(b.fresh("z"), "uint8", [zeros.length], zeros)] : []),
    ], {
      K,
      N,
      bits,
      block_size: bs,
      accuracy_level: form.accuracyLevel ?? 4,
    }, { domain: "com.microsoft" });
  };
  let k = 0;
  for (let l = 0; l < shape.layers; l++) {
    const outs = form.fused ? [product(x, H, H + 2 * KV), product(x, H, 2 * I)] : [
      product(x, H, H),
      product(x, H, KV),
      product(x, H, KV),
      product(x, H, I),
      product(x, H, I),
    ];
    outs.push(product(x, H, H), product(u, I, H));
    for (const o of outs) b.output(`y${k++}`, "float32", [m, "n"], o);
  }
  return { model: serializeModel(makeModel(b.graph())).model, weightBytes };
}

/**
 * Parses a form name: `int4`, `int4:32`, `int8`, `int8:32` (each with `+zp`: a zero point per
 * block, as GPTQ/AWQ checkpoints run on their own levels), `qgemm`, `f32`.
 */
export function parseForm(name: string, accuracyLevel: number, fused: boolean): ChainForm {
  if (name === "qgemm" || name === "f32") return { kind: name };
  const zeroPoints = name.endsWith("+zp");
  const f = parseWeightFormat(name.replace(/\+zp$/, ""), "form");
  if (f.dtype !== "int4" && f.dtype !== "int8") {
    throw new RangeError(`form is ${name}; use int4[:32], int8[:32], qgemm or f32`);
  }
  return {
    kind: "nbits",
    bits: f.dtype === "int4" ? 4 : 8,
    blockSize: f.blockSize ?? defaultBlockSize(f.dtype),
    accuracyLevel,
    fused,
    ...(zeroPoints ? { zeroPoints } : {}),
  };
}

/** Median and fastest wall time of `runs` calls (after one warm-up call) of the chain. */
export async function timeChain(
  shape: ChainShape,
  m: number,
  form: ChainForm,
  options: { runs?: number; threads?: number } = {},
): Promise<{ medianMs: number; minMs: number; weightBytes: number }> {
  const { model, weightBytes } = chainModel(shape, m, form);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: options.threads ?? 1,
    logSeverityLevel: 4,
  });
  try {
    const feeds = {
      x: new ort.Tensor("float32", new Float32Array(m * shape.hidden).fill(0.5), [m, shape.hidden]),
      u: new ort.Tensor(
        "float32",
        new Float32Array(m * shape.intermediate).fill(0.5),
        [m, shape.intermediate],
      ),
    };
    await session.run(feeds);
    const times: number[] = [];
    for (let r = 0; r < (options.runs ?? 6); r++) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    times.sort((a, c) => a - c);
    return { medianMs: times[times.length >> 1], minMs: times[0], weightBytes };
  } finally {
    await session.release();
  }
}

if (import.meta.main) {
  const args = [...Deno.args];
  const take = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const [, v] = args.splice(i, 2);
    return v;
  };
  const shapeName = (take("--shape") ?? "qwen2.5-0.5b") as keyof typeof SHAPES;
  const m = Number(take("--m") ?? 64);
  const runs = Number(take("--runs") ?? (m > 1 ? 6 : 32));
  const threads = Number(take("--threads") ?? 1);
  const level = Number(take("--accuracy-level") ?? 4);
  const fusedAt = args.indexOf("--fused");
  if (fusedAt >= 0) args.splice(fusedAt, 1);
  const s = SHAPES[shapeName];
  if (!s) throw new RangeError(`shape is ${shapeName}; use one of ${Object.keys(SHAPES)}`);
  const shape: ChainShape = {
    layers: s.numLayers!,
    hidden: s.hiddenSize!,
    intermediate: s.intermediateSize!,
    kv: s.numKvHeads! * (s.headDim ?? s.hiddenSize! / s.numHeads!),
  };
  for (const name of args.length ? args : ["int4"]) {
    const form = parseForm(name, level, fusedAt >= 0);
    const r = await timeChain(shape, m, form, { runs, threads });
    console.log(
      `${name}${form.fused ? " fused" : ""}${
        form.kind === "nbits" ? ` accuracy_level ${form.accuracyLevel}` : ""
      }: ${shape.layers} layers' linear products at M=${m}, ${threads} thread(s): median ${
        r.medianMs.toFixed(1)
      } ms, fastest ${r.minMs.toFixed(1)} ms (${(m * 1000 / r.medianMs).toFixed(1)} tok/s); ` +
        `weights as stored ${(r.weightBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }
}
