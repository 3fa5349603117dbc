/**
 * Training benchmark: tokens/s and achieved GFLOP/s of LoRA training steps (the real path:
 * train-step graph on a worker-backed onnxruntime session, AdamW, clipping) against the machine's
 * fp32 matmul throughput measured in the same run through onnxruntime (a large MatMul), i.e. the
 * model-FLOPs utilisation (MFU) of training.
 *
 * The model has the shape of Qwen2.5-0.5B (24 layers, hidden 896, GQA 14/2, MLP 4864, vocab
 * 151936, tied embeddings, q/k/v bias) with seeded random weights made by `createTinyModel`,
 * LoRA r = 16 on q/k/v/o. `--shape small` runs a 4-layer model for quick checks.
 *
 * ```
 * deno task bench train [--json]   (flags: deno task bench --help)
 * ```
 *
 * FLOPs per step (T = batch·seq tokens, S = seq): every matmul counts 2·m·n·k per pass.
 * Forward: 2·T·(N_lin + N_lora) + 4·T·S·nh·hd·L (scores and context over the full S×S matrix,
 * which the graph computes before masking). Backward: input gradients of every matmul the loss
 * reaches through a LoRA parameter (2·T·(N_lin + N_lora) minus layer 0's q/k/v/gate/up, whose
 * inputs depend on no trained value), weight gradients of the LoRA matrices only (2·T·N_lora;
 * frozen weights get none), and 8·T·S·nh·hd·L for attention. Hence about
 * 4·N_frozen + 6·N_lora + 12·S·nh·hd·L FLOPs per token, where N_lin counts the linear weights
 * including lm_head (the tied embedding) — the "6·N" rule made LoRA-aware. Element-wise ops
 * (norms, RoPE, softmax, SwiGLU, the cross-entropy) are not counted.
 *
 * @module
 */

import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { type DecoderConfig, readDecoderConfig } from "../core/model/config.ts";
import type { TinyModelOptions } from "../core/model/tiny.ts";
import { seededBenchModel } from "./bench_cache.ts";
import { normalizeWeightFormat, weightFormatName } from "../core/model/quantize.ts";
import { loadWeights, streamWeights } from "../core/model/weights.ts";
import { GraphBuilder, makeModel } from "../core/onnx/mod.ts";
import { serializeModel } from "../core/onnx/serialize.ts";
import { buildTrainGraph } from "../core/train/train_graph.ts";
import { trainLoop } from "../core/train/train_loop.ts";
import { Prng } from "../core/util/prng.ts";
import { LoraAdapter } from "../plugins/lora/lora_adapter.ts";
import { SHAPES } from "./decode.ts";
import { median } from "./timing.ts";

/** Options of {@link benchTrain}. */
export interface TrainBenchOptions {
  shape?: keyof typeof SHAPES;
  /** Rows per micro-batch. Default 1. */
  batch?: number;
  /** Tokens per row. Default 256. */
  seq?: number;
  /** Timed optimizer steps (after one warm-up step). Default 3. */
  steps?: number;
  /** onnxruntime intra-op threads for both measurements (default: one per core). */
  threads?: number;
  /** Where the model is built and cached; default `.cache/bench/decode-<shape>` (shared). */
  workDir?: string;
  /**
   * Storage of the frozen base (`f32` default; `int4` / `int8` train LoRA over a quantized base,
   * QLoRA-style, with the weights streamed from safetensors instead of loaded whole).
   */
  dtype?: string;
  log?: (line: string) => void;
}

/** What {@link benchTrain} measured. */
export interface TrainBenchResult {
  shape: string;
  /** Storage of the frozen base weights. */
  dtype: string;
  /** Peak resident memory of this process (VmHWM) at the end, bytes; 0 where unknown. */
  peakRssBytes: number;
  model: { layers: number; hidden: number; vocab: number; parameters: number };
  lora: { r: number; targets: string[]; parameters: number };
  batch: number;
  seq: number;
  threads: number;
  steps: number;
  /** Median seconds per optimizer step (one micro-batch per step). */
  secondsPerStep: number;
  tokensPerSecond: number;
  /** FLOPs of one step by the formula in the module doc. */
  flopsPerStep: number;
  achievedGflops: number;
  /** fp32 MatMul throughput through onnxruntime: the higher of the runs before and after. */
  matmulGflops: number;
  /** Best-of-5 MatMul GFLOP/s measured before and after the training steps. */
  matmulGflopsBeforeAfter: [number, number];
  matmulShape: [number, number, number];
  /** achievedGflops / matmulGflops. */
  mfu: number;
  /** 1-minute load average before and after (other processes share the machine). */
  loadAverage: { before: number[]; after: number[] };
}

/**
 * FLOPs of one LoRA training step, by the formula of the module doc.
 *
 * @example
 * ```ts
 * import { trainStepFlops } from "./train.ts";
 * import type { DecoderConfig } from "../core/model/config.ts";
 * declare const c: DecoderConfig;
 * console.log(trainStepFlops(c, { r: 16, batch: 1, seq: 256 }).total / 1e9, "GFLOP");
 * ```
 */
export function trainStepFlops(
  c: DecoderConfig,
  o: { r: number; batch: number; seq: number },
): { total: number; frozen: number; lora: number; attention: number; nLin: number; nLora: number } {
  const { hiddenSize: d, intermediateSize: f, numHeads: nh, numKvHeads: nkv, headDim: hd } = c;
  const L = c.numLayers;
  const T = o.batch * o.seq;
  const qkvo = [d * nh * hd, d * nkv * hd, d * nkv * hd, nh * hd * d];
  const perLayer = qkvo.reduce((a, b) => a + b, 0) + 3 * d * f;
  const nLin = L * perLayer + c.vocabSize * d;
  const loraPerLayer = o.r * ((d + nh * hd) + (d + nkv * hd) * 2 + (nh * hd + d));
  const nLora = L * loraPerLayer;
  // Layer 0's q/k/v/gate/up read the (frozen) embedding: no input gradient there.
  const layer0NoGrad = qkvo[0] + qkvo[1] + qkvo[2] + 2 * d * f;
  const frozen = 2 * T * nLin + 2 * T * (nLin - layer0NoGrad);
  const lora = 6 * T * nLora;
  const attention = 12 * T * o.seq * nh * hd * L;
  return { total: frozen + lora + attention, frozen, lora, attention, nLin, nLora };
}

/** fp32 MatMul GFLOP/s through onnxruntime: best of `runs` after a warm-up. */
async function matmulGflops(
  m: number,
  k: number,
  n: number,
  threads: number | undefined,
  runs = 5,
): Promise<number> {
  const b = new GraphBuilder();
  const r = new Prng(3);
  const w = Float32Array.from({ length: k * n }, () => r.next() - 0.5);
  const x = b.input("x", "float32", [m, k]);
  b.output("y", "float32", [m, n], b.op1("MatMul", [x, b.initializer("w", "float32", [k, n], w)]));
  const { model } = serializeModel(makeModel(b.graph()));
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: "all",
    ...(threads ? { intraOpNumThreads: threads } : {}),
  });
  const feed = {
    x: new ort.Tensor("float32", Float32Array.from({ length: m * k }, () => r.next()), [m, k]),
  };
  let best = Infinity;
  try {
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      await session.run(feed);
      const dt = (performance.now() - t0) / 1000;
      if (i > 0) best = Math.min(best, dt);
    }
  } finally {
    await session.release();
  }
  return (2 * m * k * n) / best / 1e9;
}

/** Current and peak resident memory, for the progress log. */
function memLine(): string {
  try {
    const s = Deno.readTextFileSync("/proc/self/status");
    const f = (k: string) =>
      ((Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1]) || 0) / 2 ** 20).toFixed(2);
    return `RSS ${f("VmRSS")} GiB, peak ${f("VmHWM")} GiB`;
  } catch {
    return "RSS unknown";
  }
}

/** VmHWM of this process in bytes (Linux), 0 elsewhere. */
function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function loadAvg(): number[] {
  try {
    return Deno.loadavg().map((v) => Math.round(v * 100) / 100);
  } catch {
    return [];
  }
}

/**
 * Runs the training benchmark.
 *
 * @example
 * ```ts
 * import { benchTrain, formatTrainBench } from "./train.ts";
 * const r = await benchTrain({ shape: "small", steps: 2 });
 * console.log(formatTrainBench(r));
 * ```
 */
export async function benchTrain(options: TrainBenchOptions = {}): Promise<TrainBenchResult> {
  const shape = options.shape ?? "qwen2.5-0.5b";
  const spec: TinyModelOptions | undefined = SHAPES[shape];
  if (!spec) {
    throw new RangeError(`shape is ${shape}; use one of ${Object.keys(SHAPES).join(", ")}`);
  }
  const batch = options.batch ?? 1;
  const seq = options.seq ?? 256;
  const steps = options.steps ?? 3;
  const threads = options.threads ?? navigator.hardwareConcurrency;
  const log = options.log ?? ((l: string) => console.error(l));
  const before = loadAvg();
  // The decode benchmark's model directory: built once, shared.
  const base = options.workDir ?? join(".cache", "bench", `decode-${shape}`);
  const dir = join(base, "model");
  let config: DecoderConfig;
  try {
    config = await readDecoderConfig(dir);
  } catch {
    // The decode suite's seeded model (one copy of the weights for every suite).
    config = await readDecoderConfig(await seededBenchModel(base, spec, log));
  }
  const format = normalizeWeightFormat(options.dtype, "--dtype");
  const streamed = format.dtype === "f32" ? undefined : await streamWeights(dir, config);
  const weights = streamed?.weights ?? await loadWeights(dir, config);
  const r = 16;
  const targets = ["q_proj", "k_proj", "v_proj", "o_proj"];
  const lora = LoraAdapter.forConfig(config, { r, alpha: 32, targetModules: targets, seed: 1 });
  // A non-zero B so every LoRA path carries signal from the first step.
  for (const m of lora.modules()) m.B.fill(1e-3);
  log(`building the train graph (${config.numLayers} layers, LoRA r=${r} on ${targets.join("/")})`);
  const graph = buildTrainGraph(config, weights, { adapters: [lora], weights: format });
  log(`train graph built: ${memLine()}`);
  const params = lora.parameters().map((p) => ({ name: p.name, shape: p.shape, data: p.data }));
  const rng = new Prng(7);
  const examples = Array.from({ length: batch }, () => {
    const ids = Array.from({ length: seq }, () => Math.floor(rng.next() * (config.vocabSize - 16)));
    return { inputIds: ids, labels: ids.slice() };
  });
  // MatMul throughput before and after the training steps; the higher one is the denominator, so
  // load from other processes that slows one measurement can only lower the reported MFU.
  const mm: [number, number, number] = [2048, 2048, 2048];
  log("measuring fp32 MatMul throughput");
  const peakBefore = await matmulGflops(...mm, threads);
  const stamps: number[] = [];
  const tmp = await Deno.makeTempDir({ prefix: "dramatis_bench_train_" });
  try {
    log(`training ${steps + 1} steps of ${batch}×${seq} tokens (${threads} threads)`);
    await trainLoop(graph, params, examples, undefined, {
      steps: steps + 1,
      microBatchSize: batch,
      lr: 1e-4,
      progress: false,
      threads,
      out: tmp,
      checkpointEvery: 0,
      keepCheckpoints: 1,
      onEvent: (e) => {
        if (e.type === "step") {
          stamps.push(performance.now());
          log(`step ${e.step}: loss ${e.loss.toFixed(4)} (${memLine()})`);
        }
      },
    });
  } finally {
    streamed?.close();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  const per: number[] = [];
  for (let i = 1; i < stamps.length; i++) per.push((stamps[i] - stamps[i - 1]) / 1000);
  const secondsPerStep = median(per);
  const flops = trainStepFlops(config, { r, batch, seq });
  log("measuring fp32 MatMul throughput again");
  const peakAfter = await matmulGflops(...mm, threads);
  const peak = Math.max(peakBefore, peakAfter);
  const achieved = flops.total / secondsPerStep / 1e9;
  const nParams = [...weights.values()].reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  return {
    shape,
    dtype: weightFormatName(format),
    peakRssBytes: peakRss(),
    model: {
      layers: config.numLayers,
      hidden: config.hiddenSize,
      vocab: config.vocabSize,
      parameters: nParams,
    },
    lora: { r, targets, parameters: params.reduce((a, p) => a + p.data.length, 0) },
    batch,
    seq,
    threads,
    steps,
    secondsPerStep,
    tokensPerSecond: (batch * seq) / secondsPerStep,
    flopsPerStep: flops.total,
    achievedGflops: achieved,
    matmulGflops: peak,
    matmulGflopsBeforeAfter: [peakBefore, peakAfter],
    matmulShape: mm,
    mfu: achieved / peak,
    loadAverage: { before, after: loadAvg() },
  };
}

/**
 * A human summary of a {@link TrainBenchResult}.
 *
 * @example
 * ```ts
 * import { formatTrainBench } from "./train.ts";
 * import type { TrainBenchResult } from "./train.ts";
 * declare const r: TrainBenchResult;
 * console.log(formatTrainBench(r));
 * ```
 */
export function formatTrainBench(r: TrainBenchResult): string {
  return [
    `train benchmark: ${r.shape} (${
      (r.model.parameters / 1e6).toFixed(0)
    }M params), LoRA r=${r.lora.r} on ${
      r.lora.targets.join("/")
    }, ${r.batch}×${r.seq} tokens/step, ${r.threads} threads`,
    `  base ${r.dtype}, peak RSS ${(r.peakRssBytes / 2 ** 30).toFixed(2)} GiB`,
    `  ${r.secondsPerStep.toFixed(2)} s/step, ${r.tokensPerSecond.toFixed(1)} tokens/s`,
    `  ${(r.flopsPerStep / 1e9).toFixed(1)} GFLOP/step → ${
      r.achievedGflops.toFixed(1)
    } GFLOP/s achieved`,
    `  fp32 MatMul ${r.matmulShape.join("×")} through onnxruntime: ${
      r.matmulGflops.toFixed(1)
    } GFLOP/s`,
    `  MFU ${(100 * r.mfu).toFixed(1)}% (goal ≥ 35%)`,
    `  load average before ${r.loadAverage.before.join(" ")}, after ${
      r.loadAverage.after.join(" ")
    }`,
  ].join("\n");
}
