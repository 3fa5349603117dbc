/**
 * `bench quant`: weight formats at the Qwen2.5-0.5B shape (seeded BF16 safetensors, like the
 * released checkpoint). For each of f32 / int8 / int4 it measures, each in its own process:
 * the peak RSS (`VmHWM`) of a first load (stream the safetensors, quantize, write the cache,
 * open the session, one decode step) and of a cached load, the bytes of the shared weights
 * file, and prefill / decode tokens per second against llama.cpp on the same weights at the same
 * bits (with `rounds`, medians over alternating rounds); plus a process that loads nothing (the
 * fixed overhead of Deno and onnxruntime).
 *
 * @module
 */

import { childMain, procStatus, runChild } from "./child.ts";
import { benchGptq, type GptqPoint } from "./quant_gptq7b.ts";
import { join, resolve } from "node:path";
import { readDecoderConfig } from "../core/model/config.ts";
import { graphBuildIdentity, graphKey } from "../core/model/engine.ts";
import { pruneGraphCache } from "../core/model/graph_cache.ts";
import { normalizeWeightFormat, weightFormatName } from "../core/model/quantize.ts";
import { type GgufDType, writeGguf } from "../core/model/gguf.ts";
import { expectedWeightShapes, streamWeights } from "../core/model/weights.ts";
import { createTinyModel, seededWeightSource, type TinyModelOptions } from "../core/model/tiny.ts";
import type { ResidualEdit } from "../core/contracts/steerer.ts";
import { IdentityAdapter } from "../plugins/hirpf/adapter.ts";
import { ModelHub } from "../core/services/model_hub.ts";
import { Prng } from "../core/util/prng.ts";
import { SHAPES } from "./decode.ts";
import { weightsFileBytes } from "./bench_cache.ts";
import { pathExists } from "../core/util/fs.ts";
import { median } from "./timing.ts";
import { formatRssFit, type RssFit, rssFit } from "./quant_rss_fit.ts";

/** The weight formats the suite compares. */
export const QUANT_DTYPES = ["f32", "int8", "int4"] as const;

/** llama.cpp's encoding at the same bits as each of ours. */
const PEER: Partial<Record<string, GgufDType>> = { f32: "f32", int8: "q8_0", int4: "q4_0" };

/** The llama.cpp format at the same bits as a dtype (`int4:32` and `int8:32` too), if there is one. */
export function peerFormat(dtype: string): GgufDType | undefined {
  return PEER[normalizeWeightFormat(dtype).dtype];
}

/**
 * A held-out text for perplexity: a short story in the style of TinyStories (the training data
 * of babyllama-105), written for this benchmark, so the model has never seen it.
 */
const HELD_OUT = "Once upon a time, there was a little girl named Mia. She had a red ball that " +
  "she loved very much. One day, Mia went to the park with her mom. She threw the ball high " +
  "in the sky. The ball fell in the pond! Mia was sad. A big duck swam to the ball and pushed " +
  'it back to Mia with its beak. Mia laughed and said, "Thank you, duck!" The duck quacked ' +
  "and swam away. Mia and her mom went home and had a warm cookie. Mia was happy.";

/** One dtype's figures. */
export interface QuantPoint {
  dtype: string;
  /** The weight format in full (`int4:128`, `int8:128`, `f32`): what `dtype` meant in this run. */
  format: string;
  weightBytes: number;
  firstLoadPeakRss: number;
  cachedLoadPeakRss: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Share of the prompt positions whose top-1 token equals the f32 model's. */
  top1AgreementWithF32?: number;
  /** llama.cpp on the same weights in its format at the same bits. */
  llamacpp?: {
    format: string;
    fileBytes: number;
    prefillTokensPerSecond: number;
    decodeTokensPerSecond: number;
    peakRss: number;
  };
  /** Why a llama.cpp run at this dtype's format failed (other rounds' runs may have succeeded). */
  llamacppError?: string;
  /** Every round's speeds (with more than one round; the figures above are their medians). */
  rounds?: Record<string, number[]>;
  /** Perplexity of babyllama-105 on the held-out text in this dtype (absent without ../shared). */
  babyllamaPerplexity?: number;
  error?: string;
}

/**
 * The Qwen2.5-7B shape (7.6B parameters, untied 152064-token embedding and lm_head). Its seeded
 * weights are generated tensor by tensor and written straight to int4 (no float32 checkpoint).
 */
export const QWEN7B_SHAPE: TinyModelOptions = {
  preset: "tiny-qwen2",
  hiddenSize: 3584,
  intermediateSize: 18944,
  numLayers: 28,
  numHeads: 28,
  numKvHeads: 4,
  headDim: 128,
  vocabSize: 152064,
  maxPositionEmbeddings: 4096,
  tieWordEmbeddings: false,
};

/** The 7B-shaped int4 model: loaded and decoding with steering and one identity expert active. */
export interface Qwen7bPoint {
  parameters: number;
  /** Bytes of the shared int4 weights file. */
  weight_bytes: number;
  /** Peak RSS of a process that loads the cached int4 graph and decodes (the acceptance figure). */
  peak_rss_bytes: number;
  /** Peak RSS of the process that generated, quantized and wrote the weights, then decoded. */
  export_peak_rss_bytes?: number;
  load_seconds: number;
  decode_tokens_per_second: number;
  new_tokens: number;
  /** Whether steering + the identity changed the greedy tokens against the plain request. */
  steered_differs_from_plain: boolean;
  error?: string;
}

/** Result of {@link benchQuant}. */
export interface QuantBenchResult {
  shape: string;
  /** onnxruntime intra-op threads of the engine and llama.cpp's threads. */
  threads: number;
  baselineRss: number;
  /** Speed rounds behind each figure (see {@link QuantBenchOptions.rounds}). */
  rounds: number;
  points: QuantPoint[];
  ratios: Record<string, number>;
  /** The 7B-shaped int4 model (absent with `qwen7b: false`). */
  qwen7b_int4?: Qwen7bPoint;
  /**
   * A Llama-2-7B-shaped GPTQ 4-bit checkpoint run on its own levels (absent with `gptq: false`;
   * see `quant_gptq7b.ts`).
   */
  gptq7b_int4?: GptqPoint;
  /**
   * Peak RSS against weight bytes over model sizes (seeded int4 models at the 0.5B, 1.5B and 3B
   * shapes, first and cached loads): `peak ≈ per_weight_byte · W + fixed_bytes`, the fixed
   * overhead measured, not assumed; with the 7B case, the line's prediction for its cached load
   * (which also carries steering and an identity expert). Absent with `rssFit: false`.
   */
  rss_fit?: RssFit & { qwen7b_predicted_cached_peak_rss_bytes?: number };
  loadavg: { start: number; end: number };
}

/** Options of {@link benchQuant}. */
export interface QuantBenchOptions {
  shape?: keyof typeof SHAPES;
  dtypes?: string[];
  threads?: number;
  promptTokens?: number;
  newTokens?: number;
  workDir?: string;
  /**
   * Speed rounds (default 1): each round runs every dtype's cached load and llama.cpp at each
   * format once, in alternating order; speeds are the medians over the rounds, cached-load and
   * llama.cpp peaks the largest.
   */
  rounds?: number;
  /** Measure llama.cpp on the same weights (default true). */
  llamacpp?: boolean;
  /** Load and decode the 7B-shaped int4 model (default true; minutes on first use). */
  qwen7b?: boolean;
  /** Load and decode a 7B-shaped GPTQ checkpoint on its own levels (default true; 3.7 GB). */
  gptq?: boolean;
  /** Fit peak RSS against weight bytes over model sizes (default true; see {@link rssFit}). */
  rssFit?: boolean;
  /**
   * Keep the per-dtype graph caches and the GGUF files after the run (default false: every run
   * re-exports them for its first-load figures anyway, and they are float32-sized copies of the
   * same weights; the seeded model and the 7B int4 graph stay).
   */
  keepCache?: boolean;
  log?: (line: string) => void;
}

const BABYLLAMA = new URL("../../shared/models/babyllama-105/", import.meta.url);

interface Child {
  kind: "baseline" | "load" | "llamacpp" | "ppl" | "qwen7b";
  gguf?: string;
  modelDir: string;
  cacheDir: string;
  dtype: string;
  threads: number;
  promptTokens: number;
  newTokens: number;
}

/** Runs in the child process: one load (and timing), then `VmHWM`. */
async function child(t: Child): Promise<Record<string, number>> {
  if (t.kind === "baseline") {
    // The same modules, no weights.
    return { peakRss: procStatus("VmHWM") };
  }
  if (t.kind === "llamacpp") return await childLlamaCpp(t);
  if (t.kind === "ppl") return await childPerplexity(t);
  if (t.kind === "qwen7b") return await childQwen7b(t);
  const engine = await new ModelHub({ cacheDir: t.cacheDir, dtype: t.dtype, threads: t.threads })
    .openEngine(t.modelDir, { prefixCacheBytes: 0 });
  try {
    const r = new Prng(1);
    const prompt = Array.from({ length: t.promptTokens }, () => 10 + r.int(1000));
    // Warm-up, then the timed run (the peak includes both).
    await engine.generate({ inputIds: [prompt.slice(0, 8)] }, { maxNewTokens: 2, eosTokenIds: [] });
    const out = await engine.generate({ inputIds: [prompt] }, {
      maxNewTokens: t.newTokens,
      temperature: 0,
      eosTokenIds: [],
    });
    const peakRss = procStatus("VmHWM");
    // Top-1 token at every prompt position (compared with f32 by the parent).
    const f = await engine.forward([prompt]);
    const V = engine.config.vocabSize;
    const logits = f.logits.data as Float32Array;
    const top1: number[] = [];
    for (let i = 0; i < prompt.length; i++) {
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[i * V + v] > logits[i * V + best]) best = v;
      top1.push(best);
    }
    return {
      peakRss,
      prefillTokensPerSecond: out.stats.prefillTokensPerSecond,
      decodeTokensPerSecond: out.stats.decodeTokensPerSecond,
      top1: top1 as never,
    };
  } finally {
    await engine.close();
  }
}

/** The 7B case's weights: seeded, generated straight into int4 as the graph is written. */
const QWEN7B_SOURCE = seededWeightSource(7);

/** The identity adapter of the 7B case: seeded, with non-zero B so the expert changes outputs. */
function qwen7bIdentity(config: Awaited<ReturnType<typeof readDecoderConfig>>) {
  const adapter = IdentityAdapter.create(config, { r: 16, seed: 1 });
  for (const p of adapter.parameters()) {
    if (p.name.includes("lora_B")) {
      p.data.forEach((_, i, a) => (a[i] = ((i * 7919) % 13 - 6) * 1e-3));
    }
  }
  return adapter;
}

/** Loads the 7B-shaped int4 graph (exporting it from seeded weights on first use) and decodes. */
async function childQwen7b(t: Child): Promise<Record<string, number>> {
  const config = await readDecoderConfig(t.modelDir);
  const t0 = performance.now();
  const engine = await new ModelHub({ cacheDir: t.cacheDir, dtype: "int4", threads: t.threads })
    .openEngine(t.modelDir, {
      steering: true,
      adapters: [qwen7bIdentity(config)],
      weightSource: QWEN7B_SOURCE,
      prefixCacheBytes: 0,
    });
  const loadSeconds = (performance.now() - t0) / 1000;
  try {
    const r = new Prng(1);
    const prompt = Array.from({ length: t.promptTokens }, () => 10 + r.int(1000));
    const vector = new Float32Array(config.hiddenSize);
    for (let i = 0; i < vector.length; i++) vector[i] = r.normal() / Math.sqrt(vector.length);
    const edits: ResidualEdit[] = [{
      block: Math.floor(config.numLayers / 2),
      type: "add",
      vector,
      coefficient: 8,
      positions: "all",
    }];
    const steered = await engine.generate({ inputIds: [prompt] }, {
      maxNewTokens: t.newTokens,
      temperature: 0,
      eosTokenIds: [],
      edits,
      extensions: { identities: ["EXT_high"] },
    });
    const plain = await engine.generate({ inputIds: [prompt] }, {
      maxNewTokens: 8,
      temperature: 0,
      eosTokenIds: [],
    });
    const a = steered.completions[0].tokens.slice(0, 8);
    const b = plain.completions[0].tokens;
    return {
      peakRss: procStatus("VmHWM"),
      loadSeconds,
      decodeTokensPerSecond: steered.stats.decodeTokensPerSecond,
      newTokens: steered.completions[0].tokens.length,
      differs: a.some((x, i) => x !== b[i]) ? 1 : 0,
    };
  } finally {
    await engine.close();
  }
}

async function childLlamaCpp(t: Child): Promise<Record<string, number>> {
  const { getLlama } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" } as never);
  const model = await llama.loadModel({ modelPath: t.gguf! });
  const ctx = await model.createContext({ contextSize: 512, batchSize: 512, threads: t.threads });
  try {
    const r = new Prng(1);
    const prompt = Array.from({ length: t.promptTokens }, () => 10 + r.int(1000));
    const warm = ctx.getSequence();
    let k = 0;
    for await (const _ of warm.evaluate(prompt.slice(0, 8) as never, { temperature: 0 })) {
      if (++k >= 2) break;
    }
    warm.dispose();
    const seq = ctx.getSequence();
    const times: number[] = [];
    const t0 = performance.now();
    for await (const _ of seq.evaluate(prompt as never, { temperature: 0 })) {
      times.push(performance.now());
      if (times.length >= t.newTokens) break;
    }
    const n = times.length;
    return {
      peakRss: procStatus("VmHWM"),
      prefillTokensPerSecond: t.promptTokens / ((times[0] - t0) / 1000),
      decodeTokensPerSecond: (n - 1) / ((times[n - 1] - times[0]) / 1000),
    };
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
}

/** Perplexity of the model in `t.modelDir` on {@link HELD_OUT} at `t.dtype`. */
async function childPerplexity(t: Child): Promise<Record<string, number>> {
  const engine = await new ModelHub({ cacheDir: t.cacheDir, dtype: t.dtype, threads: t.threads })
    .openEngine(t.modelDir, { prefixCacheBytes: 0 });
  try {
    const all = engine.tokenizer.encode(HELD_OUT);
    const V = engine.config.vocabSize;
    const window = engine.config.maxPositionEmbeddings;
    let nll = 0;
    let count = 0;
    // Windows of at most max_position_embeddings tokens, each scored on its own.
    for (let start = 0; start + 1 < all.length; start += window) {
      const ids = all.slice(start, start + window);
      const f = await engine.forward([ids]);
      const logits = f.logits.data as Float32Array;
      for (let i = 0; i + 1 < ids.length; i++) {
        let max = -Infinity;
        for (let v = 0; v < V; v++) max = Math.max(max, logits[i * V + v]);
        let sum = 0;
        for (let v = 0; v < V; v++) sum += Math.exp(logits[i * V + v] - max);
        nll -= logits[i * V + ids[i + 1]] - max - Math.log(sum);
        count++;
      }
    }
    return { perplexity: Math.exp(nll / count), tokens: count };
  } finally {
    await engine.close();
  }
}

/** Runs one {@link Child} in a fresh process. */
function runChildOf(t: Child): Promise<Record<string, number>> {
  return runChild(new URL(import.meta.url), t, `child ${t.kind}`);
}

/**
 * Runs the suite.
 *
 * @example
 * ```ts ignore
 * import { benchQuant } from "./quant.ts";
 * const r = await benchQuant({ shape: "small" });
 * console.log(r.ratios);
 * ```
 */
export async function benchQuant(options: QuantBenchOptions = {}): Promise<QuantBenchResult> {
  const shape = options.shape ?? "qwen2.5-0.5b";
  if (!SHAPES[shape]) {
    throw new RangeError(`shape is ${shape}; use one of ${Object.keys(SHAPES).join(", ")}`);
  }
  const log = options.log ?? ((l: string) => console.error(l));
  const dir = resolve(options.workDir ?? join(".cache", "bench", `quant-${shape}`));
  const modelDir = join(dir, "model");
  if (!(await pathExists(join(dir, "done")))) {
    log(`building the ${shape}-shaped model (seeded BF16 weights) in ${dir} (once)`);
    await createTinyModel(modelDir, { ...SHAPES[shape], seed: 0, dtype: "BF16" });
    await Deno.writeTextFile(join(dir, "done"), "ok\n");
  }
  const threads = options.threads ?? navigator.hardwareConcurrency;
  const base = {
    modelDir,
    threads,
    promptTokens: options.promptTokens ?? 64,
    newTokens: options.newTokens ?? 32,
  };
  const rounds = options.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`rounds is ${rounds}; pass a whole number >= 1`);
  }
  const start = Deno.loadavg()[0];
  const baseline = await runChildOf({ ...base, kind: "baseline", cacheDir: "", dtype: "f32" });
  const points: QuantPoint[] = [];
  const top1 = new Map<string, number[]>();
  // Speed samples per dtype (cached loads) and per llama.cpp format, one per round (below).
  const speed = new Map<string, Record<string, number>[]>();
  const peers = new Map<string, Record<string, number>[]>();
  const peerErrors = new Map<string, string>();
  const peerOf = (dtype: string) => (options.llamacpp ?? true) ? peerFormat(dtype) : undefined;
  const ggufOf = (format: GgufDType) => join(dir, `model-${format}.gguf`);
  for (const dtype of options.dtypes ?? QUANT_DTYPES) {
    const cacheDir = join(dir, `graphs-${dtype}`);
    await Deno.remove(cacheDir, { recursive: true }).catch(() => {});
    try {
      log(`${dtype}: first load`);
      const first = await runChildOf({ ...base, kind: "load", cacheDir, dtype });
      log(`${dtype}: cached load`);
      const cached = await runChildOf({ ...base, kind: "load", cacheDir, dtype });
      top1.set(dtype, cached.top1 as unknown as number[]);
      const point: QuantPoint = {
        dtype,
        format: weightFormatName(dtype),
        weightBytes: await weightsFileBytes(cacheDir),
        firstLoadPeakRss: first.peakRss,
        cachedLoadPeakRss: cached.peakRss,
        prefillTokensPerSecond: cached.prefillTokensPerSecond,
        decodeTokensPerSecond: cached.decodeTokensPerSecond,
      };
      const f32Top = top1.get("f32");
      if (f32Top) {
        const mine = top1.get(dtype)!;
        point.top1AgreementWithF32 = mine.filter((x, i) => x === f32Top[i]).length / mine.length;
      }
      const format = peerOf(dtype);
      if (format) {
        const gguf = ggufOf(format);
        if (!(await pathExists(gguf))) {
          log(`writing ${gguf} (the same weights for llama.cpp)`);
          const config = await readDecoderConfig(modelDir);
          const { weights, close } = await streamWeights(modelDir, config);
          try {
            const tokenizer = JSON.parse(await Deno.readTextFile(join(modelDir, "tokenizer.json")));
            await writeGguf(gguf, config, weights, { tokenizer, dtype: format });
          } finally {
            close();
          }
        }
      }
      speed.set(dtype, [cached]);
      if (await pathExists(new URL("config.json", BABYLLAMA).pathname)) {
        log(`${dtype}: babyllama-105 perplexity`);
        const ppl = await runChildOf({
          ...base,
          kind: "ppl",
          modelDir: BABYLLAMA.pathname,
          cacheDir: join(dir, "graphs-babyllama"),
          dtype,
        }).catch((e) => ({ perplexity: NaN, error: e.message }));
        point.babyllamaPerplexity = ppl.perplexity;
      }
      points.push(point);
    } catch (e) {
      points.push({
        dtype,
        format: dtype,
        weightBytes: NaN,
        firstLoadPeakRss: NaN,
        cachedLoadPeakRss: NaN,
        prefillTokensPerSecond: NaN,
        decodeTokensPerSecond: NaN,
        error: (e as Error).message,
      });
    }
  }
  // Speed in rounds: every measured dtype's cached load and every llama.cpp format once per
  // round (the first round's loads are the cached loads above), the order reversed on odd rounds,
  // so the machine's drift between processes (±15% here) falls on both sides; each figure is the
  // median over the rounds, peak RSS the largest. A llama.cpp failure is its format's, not the
  // dtype's: the format is tried again with the next dtype that shares it.
  const measured = points.filter((p) => !p.error);
  for (let round = 0; round < rounds; round++) {
    const ran = new Set<string>();
    const live = measured.filter((p) => !p.error);
    const of = (what: string) => `${what}${rounds > 1 ? ` (round ${round + 1}/${rounds})` : ""}`;
    for (const p of round % 2 === 0 ? live : live.reverse()) {
      const cacheDir = join(dir, `graphs-${p.dtype}`);
      const format = peerOf(p.dtype);
      const steps: (() => Promise<void>)[] = [];
      if (round > 0) {
        steps.push(async () => {
          log(of(`${p.dtype}: speed (cached load)`));
          try {
            const sample = await runChildOf({ ...base, kind: "load", cacheDir, dtype: p.dtype });
            speed.get(p.dtype)!.push(sample);
          } catch (e) {
            p.error = `round ${round + 1}: ${(e as Error).message}`;
          }
        });
      }
      if (format && !ran.has(format)) {
        steps.push(async () => {
          log(of(`llama.cpp ${format}`));
          try {
            const gguf = ggufOf(format);
            const sample = await runChildOf({
              ...base,
              kind: "llamacpp",
              cacheDir,
              dtype: p.dtype,
              gguf,
            });
            peers.set(format, [...(peers.get(format) ?? []), sample]);
            ran.add(format);
          } catch (e) {
            peerErrors.set(format, `round ${round + 1}: ${(e as Error).message}`);
          }
        });
      }
      for (const step of round % 2 === 0 ? steps : steps.reverse()) await step();
    }
  }
  const largest = (xs: number[]) => Math.max(...xs);
  for (const p of measured) {
    if (p.error) {
      p.prefillTokensPerSecond = p.decodeTokensPerSecond = NaN;
      continue;
    }
    const s = speed.get(p.dtype)!;
    p.prefillTokensPerSecond = median(s.map((x) => x.prefillTokensPerSecond));
    p.decodeTokensPerSecond = median(s.map((x) => x.decodeTokensPerSecond));
    p.cachedLoadPeakRss = largest(s.map((x) => x.peakRss)); // the first is the cached load above
    const format = peerOf(p.dtype);
    const peer = format ? peers.get(format) : undefined;
    if (format && peerErrors.has(format)) p.llamacppError = peerErrors.get(format);
    if (format && peer) {
      p.llamacpp = {
        format,
        fileBytes: (await Deno.stat(ggufOf(format))).size,
        prefillTokensPerSecond: median(peer.map((x) => x.prefillTokensPerSecond)),
        decodeTokensPerSecond: median(peer.map((x) => x.decodeTokensPerSecond)),
        peakRss: largest(peer.map((x) => x.peakRss)),
      };
    }
    if (rounds > 1) {
      p.rounds = {
        decodeTokensPerSecond: s.map((x) => x.decodeTokensPerSecond),
        prefillTokensPerSecond: s.map((x) => x.prefillTokensPerSecond),
        ...(peer
          ? {
            llamacppDecodeTokensPerSecond: peer.map((x) => x.decodeTokensPerSecond),
            llamacppPrefillTokensPerSecond: peer.map((x) => x.prefillTokensPerSecond),
          }
          : {}),
      };
    }
  }
  let qwen7b: Qwen7bPoint | undefined;
  if (options.qwen7b ?? true) qwen7b = await benchQwen7b(dir, threads, log);
  const gptq = options.gptq ?? true
    ? await benchGptq(join(dir, "llama-2-7b-gptq"), { threads, keepCache: options.keepCache }, log)
    : undefined;
  let fit: QuantBenchResult["rss_fit"];
  if (options.rssFit ?? true) {
    fit = await rssFit({
      dir: join(dir, "rss-fit"),
      dtype: "int4",
      threads,
      keepCache: options.keepCache,
      log,
    });
    if (qwen7b && Number.isFinite(qwen7b.weight_bytes)) {
      fit.qwen7b_predicted_cached_peak_rss_bytes = fit.cached_load.per_weight_byte *
          qwen7b.weight_bytes + fit.cached_load.fixed_bytes;
    }
  }
  if (!options.keepCache) {
    for await (const e of Deno.readDir(dir)) {
      if (/^graphs-|^model-.*\.gguf$/.test(e.name)) {
        await Deno.remove(join(dir, e.name), { recursive: true }).catch(() => {});
      }
    }
  }
  const ratios: Record<string, number> = {};
  const by = new Map(points.map((p) => [p.dtype, p]));
  for (const p of points) {
    const extra = (x: number) => (x - baseline.peakRss) / p.weightBytes;
    ratios[`${p.dtype}_first_load_rss_over_baseline_vs_weights`] = extra(p.firstLoadPeakRss);
    ratios[`${p.dtype}_cached_load_rss_over_baseline_vs_weights`] = extra(p.cachedLoadPeakRss);
    const f32 = by.get("f32");
    if (f32 && p.dtype !== "f32") {
      ratios[`${p.dtype}_decode_vs_f32`] = p.decodeTokensPerSecond / f32.decodeTokensPerSecond;
      ratios[`${p.dtype}_prefill_vs_f32`] = p.prefillTokensPerSecond / f32.prefillTokensPerSecond;
      ratios[`${p.dtype}_weight_bytes_vs_f32`] = p.weightBytes / f32.weightBytes;
      if (p.babyllamaPerplexity && f32.babyllamaPerplexity) {
        ratios[`${p.dtype}_perplexity_vs_f32`] = p.babyllamaPerplexity / f32.babyllamaPerplexity;
      }
    }
    if (p.llamacpp) {
      const peer = `llamacpp_${p.llamacpp.format}`;
      ratios[`${p.dtype}_decode_vs_${peer}`] = p.decodeTokensPerSecond /
        p.llamacpp.decodeTokensPerSecond;
      ratios[`${p.dtype}_prefill_vs_${peer}`] = p.prefillTokensPerSecond /
        p.llamacpp.prefillTokensPerSecond;
      ratios[`${p.dtype}_cached_load_rss_vs_${peer}`] = p.cachedLoadPeakRss / p.llamacpp.peakRss;
    }
  }
  if (gptq && !gptq.error) {
    ratios.gptq7b_first_load_rss_vs_weights = gptq.first_load_peak_rss_bytes / gptq.weight_bytes;
    ratios.gptq7b_cached_load_rss_vs_weights = gptq.peak_rss_bytes / gptq.weight_bytes;
  }
  return {
    shape,
    threads,
    baselineRss: baseline.peakRss,
    rounds,
    points,
    ratios,
    ...(qwen7b ? { qwen7b_int4: qwen7b } : {}),
    ...(gptq ? { gptq7b_int4: gptq } : {}),
    ...(fit ? { rss_fit: fit } : {}),
    loadavg: { start, end: Deno.loadavg()[0] },
  };
}

/** The 7B case: a first process exports (once), a fresh one loads the cached graph and decodes. */
async function benchQwen7b(
  dir: string,
  threads: number,
  log: (line: string) => void,
): Promise<Qwen7bPoint> {
  const root = join(dir, "qwen2.5-7b-int4");
  const modelDir = join(root, "model");
  const cacheDir = join(root, "graphs");
  const parameters = [
    ...expectedWeightShapes(
      await ensureQwen7bDir(modelDir, log),
    ).values(),
  ].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  const base = { modelDir, cacheDir, dtype: "int4", threads, promptTokens: 16, newTokens: 32 };
  try {
    let exportPeak: number | undefined;
    // Exported already under the key this code would use? (A weights folder from an older graph
    // builder does not count: the cached-load process would export then.)
    const config = await readDecoderConfig(modelDir);
    const key = await graphKey(modelDir, config, {
      steering: true,
      adapters: [qwen7bIdentity(config)],
      weights: normalizeWeightFormat("int4"),
      source: QWEN7B_SOURCE.id,
    });
    if (!(await pathExists(join(cacheDir, key, "done.json")))) {
      log("qwen7b int4: generating, quantizing and writing the seeded weights (once)");
      exportPeak = (await runChildOf({ ...base, kind: "qwen7b" })).peakRss;
    }
    log("qwen7b int4: cached load, 32 tokens with steering and one identity");
    const m = await runChildOf({ ...base, kind: "qwen7b" });
    // The kept 7B graph is this builder's: graphs an older one left (4 GB each) go.
    await pruneGraphCache(cacheDir, await graphBuildIdentity()).then(
      (r) => {
        if (r.removed.length) {
          log(`qwen7b int4: removed ${r.removed.length} stale cache folder(s), ${r.freedBytes} B`);
        }
      },
      (e) => log(`qwen7b int4: could not prune its cache: ${(e as Error).message}`),
    );
    return {
      parameters,
      weight_bytes: await weightsFileBytes(cacheDir),
      peak_rss_bytes: m.peakRss,
      ...(exportPeak !== undefined ? { export_peak_rss_bytes: exportPeak } : {}),
      load_seconds: m.loadSeconds,
      decode_tokens_per_second: m.decodeTokensPerSecond,
      new_tokens: m.newTokens,
      steered_differs_from_plain: m.differs === 1,
    };
  } catch (e) {
    return {
      parameters,
      weight_bytes: NaN,
      peak_rss_bytes: NaN,
      load_seconds: NaN,
      decode_tokens_per_second: NaN,
      new_tokens: 0,
      steered_differs_from_plain: false,
      error: (e as Error).message,
    };
  }
}

/** Config, tokenizer and chat template of the 7B shape (no weight file: they are generated). */
async function ensureQwen7bDir(modelDir: string, log: (line: string) => void) {
  if (!(await pathExists(join(modelDir, "config.json")))) {
    log(`writing the Qwen2.5-7B-shaped model folder (config and tokenizer only) in ${modelDir}`);
    await createTinyModel(modelDir, { ...QWEN7B_SHAPE, seed: 0, writeWeights: false });
  }
  return await readDecoderConfig(modelDir);
}

/** Human-readable table of {@link benchQuant}'s result. */
export function formatQuantBench(r: QuantBenchResult): string {
  const mib = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB`;
  const lines = [
    `bench quant (${r.shape}, ${r.threads} thread(s)); fixed overhead (no model) ` +
    `${mib(r.baselineRss)}; ` +
    `${r.rounds > 1 ? `speeds and peaks: medians and largest of ${r.rounds} rounds; ` : ""}` +
    `load average ${r.loadavg.start.toFixed(1)} → ${r.loadavg.end.toFixed(1)}`,
    "dtype  weights    first-load peak  cached-load peak  prefill tok/s  decode tok/s",
  ];
  for (const p of r.points) {
    lines.push(
      p.error
        ? `${p.dtype.padEnd(6)} error: ${p.error}`
        : `${p.dtype.padEnd(6)} ${mib(p.weightBytes).padEnd(10)} ${
          mib(p.firstLoadPeakRss).padEnd(16)
        } ${mib(p.cachedLoadPeakRss).padEnd(17)} ${
          p.prefillTokensPerSecond.toFixed(1).padEnd(14)
        } ${p.decodeTokensPerSecond.toFixed(1)}`,
    );
  }
  for (const p of r.points) {
    if (p.llamacppError) lines.push(`${p.dtype}: llama.cpp error: ${p.llamacppError}`);
    if (p.llamacpp) {
      const c = p.llamacpp;
      lines.push(
        `llama.cpp ${c.format}: file ${mib(c.fileBytes)}, peak ${mib(c.peakRss)}, prefill ` +
          `${c.prefillTokensPerSecond.toFixed(1)} tok/s, decode ${
            c.decodeTokensPerSecond.toFixed(1)
          } tok/s`,
      );
    }
    if (p.top1AgreementWithF32 !== undefined) {
      lines.push(
        `${p.dtype}: top-1 agreement with f32 ${(100 * p.top1AgreementWithF32).toFixed(1)}%`,
      );
    }
    if (p.babyllamaPerplexity !== undefined) {
      lines.push(`${p.dtype}: babyllama-105 perplexity ${p.babyllamaPerplexity.toFixed(4)}`);
    }
  }
  const q = r.qwen7b_int4;
  if (q) {
    lines.push(
      q.error
        ? `qwen7b int4: error: ${q.error}`
        : `qwen7b int4 (${(q.parameters / 1e9).toFixed(2)}B params, weights ${
          mib(q.weight_bytes)
        }): peak RSS ${mib(q.peak_rss_bytes)}${
          q.export_peak_rss_bytes ? ` (export run ${mib(q.export_peak_rss_bytes)})` : ""
        }, load ${q.load_seconds.toFixed(1)} s, decode ${
          q.decode_tokens_per_second.toFixed(2)
        } tok/s with steering + 1 identity (changes tokens: ${q.steered_differs_from_plain})`,
    );
  }
  const g = r.gptq7b_int4;
  if (g) {
    lines.push(
      g.error
        ? `gptq 7B int4: error: ${g.error}`
        : `gptq 7B int4 on its own levels (${(g.parameters / 1e9).toFixed(2)}B params, checkpoint ${
          mib(g.checkpoint_bytes)
        }, weights ${mib(g.weight_bytes)}): first load ${
          g.first_load_seconds.toFixed(1)
        } s at peak ${mib(g.first_load_peak_rss_bytes)}, cached load ${
          g.load_seconds.toFixed(1)
        } s at peak ${mib(g.peak_rss_bytes)}, decode ${
          g.decode_tokens_per_second.toFixed(2)
        } tok/s`,
    );
  }
  if (r.rss_fit) {
    lines.push(formatRssFit(r.rss_fit));
    const p = r.rss_fit.qwen7b_predicted_cached_peak_rss_bytes;
    if (p !== undefined) lines.push(`rss fit: predicted 7B int4 cached-load peak ${mib(p)}`);
  }
  for (const [k, v] of Object.entries(r.ratios)) lines.push(`ratios.${k} = ${v.toFixed(3)}`);
  return lines.join("\n");
}

if (import.meta.main) await childMain(child);
