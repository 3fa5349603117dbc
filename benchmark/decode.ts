/**
 * Decode benchmark: prefill and decode tokens/s of Dramatis' generation loop (worker-backed
 * onnxruntime session + `generate()`) against transformers.js `generate()` on the *same* exported
 * ONNX file, plus bytes moved per decoded token against the machine's memory bandwidth measured in
 * the same run (a large fp32 GEMV through onnxruntime, and a plain copy loop).
 *
 * The model has the shape of Qwen2.5-0.5B (24 layers, hidden 896, GQA 14/2, vocab 151936, tied
 * embeddings, q/k/v bias) with seeded random weights made by `createTinyModel`; it is built once
 * into `.cache/bench/` and reused.
 *
 * ```
 * deno task bench decode [--json]   (flags: deno task bench --help)
 * ```
 *
 * Method: each engine runs greedy generation of 1 new token (≈ prefill) and of N new tokens, on
 * the same prompt, `runs` times after one warm-up; prefill tok/s = P / median(t₁), decode tok/s =
 * (N − 1) / (median(t_N) − median(t₁)). Both engines use onnxruntime-node 1.30 with the same
 * thread count. EOS is disabled so every run generates exactly N tokens.
 *
 * @module
 */

import { join } from "node:path";
import { AutoModelForCausalLM, env, Tensor } from "@huggingface/transformers";
import { GraphBuilder, makeModel, writeModel } from "../core/onnx/mod.ts";
import { OrtSession } from "../core/runtime/session.ts";
import { tensor } from "../core/runtime/tensor.ts";
import { type DecoderConfig, readDecoderConfig } from "../core/model/config.ts";
import { exportForTransformersJs } from "../core/model/export.ts";
import { type DecoderModel, generate } from "../core/model/generate.ts";
import type { TinyModelOptions } from "../core/model/tiny.ts";
import { removeDerived, seededBenchModel } from "./bench_cache.ts";
import { loadWeights } from "../core/model/weights.ts";
import { Prng } from "../core/util/prng.ts";
import { decodeTiming, median } from "./timing.ts";

/** Model shapes the benchmark can build. */
export const SHAPES: Record<string, TinyModelOptions> = {
  "qwen2.5-0.5b": {
    preset: "tiny-qwen2",
    hiddenSize: 896,
    intermediateSize: 4864,
    numLayers: 24,
    numHeads: 14,
    numKvHeads: 2,
    headDim: 64,
    vocabSize: 151936,
    maxPositionEmbeddings: 4096,
    tieWordEmbeddings: true,
  },
  small: {
    preset: "tiny-qwen2",
    hiddenSize: 256,
    intermediateSize: 768,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 64,
    vocabSize: 4096,
    maxPositionEmbeddings: 1024,
    tieWordEmbeddings: true,
  },
};

/** Options of {@link benchDecode}. */
export interface DecodeBenchOptions {
  shape?: keyof typeof SHAPES;
  promptTokens?: number;
  newTokens?: number;
  runs?: number;
  /** onnxruntime intra-op threads for both engines (default: one per core). */
  threads?: number;
  /** Where the model is built and cached; default `.cache/bench/decode-<shape>`. */
  workDir?: string;
  /**
   * Keep the transformers.js export and the bandwidth probe graphs after the run (default
   * false: the next run rebuilds them from the seeded model).
   */
  keepCache?: boolean;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

/** Timings of one engine. */
export interface EngineTiming {
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** The same from the fastest runs (less sensitive to other processes on a shared machine). */
  bestPrefillTokensPerSecond: number;
  bestDecodeTokensPerSecond: number;
  /** Median seconds of the 1-token and N-token runs. */
  t1: number;
  tN: number;
}

/** Result of {@link benchDecode}. */
export interface DecodeBenchResult {
  shape: string;
  params: number;
  promptTokens: number;
  newTokens: number;
  runs: number;
  threads: number | null;
  /** 1-minute load average when the run started (other processes skew timings). */
  loadAverage: number;
  dramatis: EngineTiming & {
    internal: { prefillTokensPerSecond: number; decodeTokensPerSecond: number };
  };
  transformersJs: EngineTiming;
  bandwidth: {
    /** Bytes streamed per decoded token: every weight read once plus the KV cache at mean context. */
    bytesPerToken: number;
    /** fp32 GEMV read bandwidth through onnxruntime: the best of the probes, GB/s. */
    gemvGBps: number;
    /** Each probe: one 256 MiB GEMV, and a chain of 48 MLP-shaped GEMVs. */
    gemvSingleGBps: number;
    gemvChainGBps: number;
    /** JS typed-array copy, (read + write) GB/s. */
    copyGBps: number;
    /** bytesPerToken × decode tok/s of each engine, GB/s. */
    dramatisGBps: number;
    transformersJsGBps: number;
  };
  ratios: {
    /** Dramatis / transformers.js, medians. */
    prefill: number;
    decode: number;
    /** Dramatis / transformers.js, fastest runs. */
    bestPrefill: number;
    bestDecode: number;
    /** Achieved / measured GEMV bandwidth. */
    dramatisBandwidth: number;
    transformersJsBandwidth: number;
  };
}

async function exists(p: string): Promise<boolean> {
  return await Deno.stat(p).then(() => true, () => false);
}

/** Parameters and the bytes one decode step reads (fp32), at a mean context of `ctx` tokens. */
export function bytesPerToken(c: DecoderConfig, ctx: number): { params: number; bytes: number } {
  const { hiddenSize: d, intermediateSize: f, numHeads: nh, numKvHeads: nkv, headDim: hd } = c;
  const perLayer = d * nh * hd + 2 * d * nkv * hd + nh * hd * d + 3 * d * f + 2 * d +
    (c.attentionBias ? nh * hd + 2 * nkv * hd : 0) + (c.qkNorm ? 2 * hd : 0);
  const embed = c.vocabSize * d;
  const params = c.numLayers * perLayer + d + embed + (c.tieWordEmbeddings ? 0 : embed);
  // Each step reads every layer weight, the final norm, the lm_head matrix (the embedding when
  // tied), one embedding row, and the K and V cache of every layer.
  const read = c.numLayers * perLayer + d + embed + d;
  const kv = 2 * c.numLayers * nkv * hd * ctx;
  return { params, bytes: 4 * (read + kv) };
}

/**
 * Read bandwidth through onnxruntime in GB/s, best of n runs: `single` is one fp32 GEMV
 * [1,4096]×[4096,16384] (256 MiB); `chain` is 48 GEMVs alternating [896→4864] and [4864→896]
 * (836 MB, the access pattern of a Qwen2.5-0.5B MLP stack). Weights are initializers, far beyond
 * any cache, so each run streams them from memory once.
 */
async function gemvBandwidth(
  dir: string,
  threads: number | undefined,
): Promise<{ single: number; chain: number }> {
  const build = async (name: string, dims: [number, number][]) => {
    const path = join(dir, `${name}.onnx`);
    if (!(await exists(path))) {
      const b = new GraphBuilder();
      const r = new Prng(1);
      let x = b.input("x", "float32", [1, dims[0][0]]);
      dims.forEach(([k, n], i) => {
        const w = new Float32Array(k * n);
        for (let j = 0; j < w.length; j++) w[j] = (r.next() - 0.5) / Math.sqrt(k);
        x = b.op1("MatMul", [x, b.initializer(`w${i}`, "float32", [k, n], w)]);
      });
      b.output("y", "float32", [1, dims[dims.length - 1][1]], x);
      await writeModel(makeModel(b.graph()), path);
    }
    const bytes = dims.reduce((s, [k, n]) => s + 4 * k * n, 0);
    const s = await OrtSession.create(path, { intraOpThreads: threads });
    try {
      let best = Infinity;
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        await s.run({
          x: tensor("float32", [1, dims[0][0]], new Float32Array(dims[0][0]).fill(0.01)),
        });
        if (i >= 2) best = Math.min(best, performance.now() - t0);
      }
      return bytes / (best / 1000) / 1e9;
    } finally {
      await s.release();
    }
  };
  const single = await build("gemv_single", [[4096, 16384]]);
  const chain = await build(
    "gemv_chain",
    Array.from({ length: 48 }, (_, i) => (i % 2 ? [4864, 896] : [896, 4864]) as [number, number]),
  );
  return { single, chain };
}

/** Copy bandwidth of a 256 MiB typed array, (read + write) GB/s, best of 6. */
function copyBandwidth(): number {
  const n = 64 * 1024 * 1024;
  const src = new Float32Array(n).fill(1);
  const dst = new Float32Array(n).fill(0);
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t0);
  }
  return 2 * n * 4 / (best / 1000) / 1e9;
}

/**
 * Runs the decode benchmark and returns its measurements.
 *
 * @example
 * ```ts
 * import { benchDecode } from "./decode.ts";
 * const r = await benchDecode({ shape: "small", newTokens: 16, runs: 2 });
 * console.log(r.ratios.decode, r.ratios.dramatisBandwidth);
 * ```
 */
export async function benchDecode(options: DecodeBenchOptions = {}): Promise<DecodeBenchResult> {
  const dir = options.workDir ??
    join(".cache", "bench", `decode-${options.shape ?? "qwen2.5-0.5b"}`);
  try {
    return await measureDecode(options);
  } finally {
    // Derived from the seeded model (which stays): rebuilt by the next run.
    await removeDerived(
      [
        join(dir, "model", "onnx"),
        ...["gemv_single", "gemv_chain"].flatMap((n) => [`${n}.onnx`, `${n}.onnx_data`])
          .map((f) => join(dir, f)),
      ],
      options.keepCache,
      options.log ?? ((l: string) => console.error(l)),
    );
  }
}

async function measureDecode(options: DecodeBenchOptions): Promise<DecodeBenchResult> {
  const shape = options.shape ?? "qwen2.5-0.5b";
  const spec = SHAPES[shape];
  if (!spec) {
    throw new RangeError(
      `shape is ${JSON.stringify(shape)}; use one of ${Object.keys(SHAPES).join(", ")}`,
    );
  }
  const P = options.promptTokens ?? 64;
  const N = options.newTokens ?? 32;
  const runs = options.runs ?? 3;
  for (
    const [k, v, min] of [["promptTokens", P, 1], ["newTokens", N, 2], ["runs", runs, 1]] as const
  ) {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`${k} is ${v}; pass a whole number >= ${min}`);
    }
  }
  const log = options.log ?? ((l: string) => console.error(l));
  const dir = options.workDir ?? join(".cache", "bench", `decode-${shape}`);
  const modelDir = await seededBenchModel(dir, spec, log);
  const onnxPath = join(modelDir, "onnx", "model.onnx");
  if (!(await exists(onnxPath))) {
    log(`exporting ${modelDir} for transformers.js`);
    const config = await readDecoderConfig(modelDir);
    await exportForTransformersJs(modelDir, config, await loadWeights(modelDir, config));
  }
  const config = await readDecoderConfig(modelDir);
  const r = new Prng(7);
  const prompt = Array.from({ length: P }, () => r.int(Math.min(config.vocabSize, 1000)));

  log("measuring memory bandwidth");
  const load = Deno.loadavg()[0];
  const probes = await gemvBandwidth(dir, options.threads);
  const gemvGBps = Math.max(probes.single, probes.chain);
  const copyGBps = copyBandwidth();

  // Dramatis: worker session + generate() on the exported file.
  log("loading both engines");
  const session = await OrtSession.create(onnxPath, { intraOpThreads: options.threads });
  const model: DecoderModel = {
    session,
    shape: {
      numLayers: config.numLayers,
      numKvHeads: config.numKvHeads,
      headDim: config.headDim,
      hiddenSize: config.hiddenSize,
    },
    eosTokenIds: [],
    padTokenId: 0,
    decode: () => "",
  };
  env.allowRemoteModels = false;
  const tjs = await AutoModelForCausalLM.from_pretrained(modelDir, {
    dtype: "fp32",
    device: "cpu",
    local_files_only: true,
    ...(options.threads ? { session_options: { intraOpNumThreads: options.threads } } : {}),
  });
  const ours = { t1: [] as number[], tN: [] as number[], pre: [] as number[], dec: [] as number[] };
  const theirs = { t1: [] as number[], tN: [] as number[] };
  const timed = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
    const t0 = performance.now();
    const v = await fn();
    return [(performance.now() - t0) / 1000, v];
  };
  const oursGen = (n: number) => timed(() => generate(model, [prompt], { maxNewTokens: n }));
  const theirsGen = (n: number) =>
    timed(() =>
      tjs.generate({
        input_ids: new Tensor("int64", BigInt64Array.from(prompt, BigInt), [1, P]),
        attention_mask: new Tensor("int64", new BigInt64Array(P).fill(1n), [1, P]),
        max_new_tokens: n,
        min_new_tokens: n,
        do_sample: false,
      } as never)
    );
  try {
    // Interleaved, so load from other processes hits both engines alike; run 0 is a warm-up.
    for (let i = 0; i <= runs; i++) {
      log(`run ${i}/${runs}${i === 0 ? " (warm-up)" : ""}`);
      const [a1] = await oursGen(1);
      const [b1] = await theirsGen(1);
      const [aN, g] = await oursGen(N);
      const [bN] = await theirsGen(N);
      if (i === 0) continue;
      ours.t1.push(a1);
      ours.tN.push(aN);
      ours.pre.push(g.stats.prefillTokensPerSecond);
      ours.dec.push(g.stats.decodeTokensPerSecond);
      theirs.t1.push(b1);
      theirs.tN.push(bN);
    }
  } finally {
    await session.release();
    await tjs.dispose();
  }

  const timing = (t: { t1: number[]; tN: number[] }): EngineTiming => ({
    ...decodeTiming(t, N),
    prefillTokensPerSecond: P / median(t.t1),
    bestPrefillTokensPerSecond: P / Math.min(...t.t1),
  });
  const a = timing(ours);
  const b = timing(theirs);
  const { params, bytes } = bytesPerToken(config, P + N / 2);
  const dramatisGBps = bytes * a.decodeTokensPerSecond / 1e9;
  const transformersJsGBps = bytes * b.decodeTokensPerSecond / 1e9;
  return {
    shape,
    params,
    promptTokens: P,
    newTokens: N,
    runs,
    threads: options.threads ?? null,
    loadAverage: load,
    dramatis: {
      ...a,
      internal: {
        prefillTokensPerSecond: median(ours.pre),
        decodeTokensPerSecond: median(ours.dec),
      },
    },
    transformersJs: b,
    bandwidth: {
      bytesPerToken: bytes,
      gemvGBps,
      gemvSingleGBps: probes.single,
      gemvChainGBps: probes.chain,
      copyGBps,
      dramatisGBps,
      transformersJsGBps,
    },
    ratios: {
      prefill: a.prefillTokensPerSecond / b.prefillTokensPerSecond,
      decode: a.decodeTokensPerSecond / b.decodeTokensPerSecond,
      bestPrefill: a.bestPrefillTokensPerSecond / b.bestPrefillTokensPerSecond,
      bestDecode: a.bestDecodeTokensPerSecond / b.bestDecodeTokensPerSecond,
      dramatisBandwidth: dramatisGBps / gemvGBps,
      transformersJsBandwidth: transformersJsGBps / gemvGBps,
    },
  };
}

/** Human-readable report of a {@link DecodeBenchResult}. */
export function formatDecodeBench(r: DecodeBenchResult): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  return [
    `decode benchmark: ${r.shape}-shaped fp32 model, ${f(r.params / 1e6)} M params, ` +
    `prompt ${r.promptTokens}, ${r.newTokens} new tokens, median of ${r.runs} ` +
    `(load average ${f(r.loadAverage, 2)} at start)`,
    `                   prefill tok/s   decode tok/s`,
    `  dramatis         ${f(r.dramatis.prefillTokensPerSecond).padStart(13)}   ${
      f(r.dramatis.decodeTokensPerSecond).padStart(12)
    }`,
    `  transformers.js  ${f(r.transformersJs.prefillTokensPerSecond).padStart(13)}   ${
      f(r.transformersJs.decodeTokensPerSecond).padStart(12)
    }`,
    `  ratio (dramatis / transformers.js): prefill ${f(r.ratios.prefill, 2)}×, decode ${
      f(r.ratios.decode, 2)
    }× (fastest runs: prefill ${f(r.ratios.bestPrefill, 2)}×, decode ${
      f(r.ratios.bestDecode, 2)
    }×)`,
    `bandwidth: ${f(r.bandwidth.bytesPerToken / 1e9, 3)} GB read per token; measured GEMV ${
      f(r.bandwidth.gemvGBps)
    } GB/s (single ${f(r.bandwidth.gemvSingleGBps)}, chain ${f(r.bandwidth.gemvChainGBps)}), copy ${
      f(r.bandwidth.copyGBps)
    } GB/s`,
    `  achieved: dramatis ${f(r.bandwidth.dramatisGBps)} GB/s (${
      f(100 * r.ratios.dramatisBandwidth, 0)
    }% of GEMV), transformers.js ${f(r.bandwidth.transformersJsGBps)} GB/s (${
      f(100 * r.ratios.transformersJsBandwidth, 0)
    }%)`,
  ].join("\n");
}
