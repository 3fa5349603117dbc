/**
 * Long-context benchmark: prefill and decode tokens/s and peak RSS at several context lengths,
 * for Dramatis' engine (resident KV cache, fused graph, chunked prefill), llama.cpp
 * (`node-llama-cpp`, the same weights through the project's own GGUF export at the same bits:
 * F32, or Q8_0 / Q4_0 with `--dtype int8` / `int4`) and transformers.js (`generate()` on the
 * transformers.js-layout export of the same weights; float32 only), in one run; plus a multi-turn
 * role-play simulation (a 20-turn scene sharing a long system prompt) with and without prefix
 * reuse, whose transcripts must be identical.
 *
 * The model has the Qwen2.5-0.5B shape with seeded random weights (as `benchmark/decode.ts`).
 * Each measurement runs in its own child process, so each peak RSS is that engine's alone:
 * after loading and a short warm-up the child resets its peak (`/proc/self/clear_refs` 5), runs
 * the prefill, and reads `VmHWM`: the prefill's peak including the resident weights.
 *
 * ```
 * deno task bench long [--json] [--contexts 64,128,512,2048,4096] [--engines dramatis,llamacpp,transformersjs] [--dtype f32|int8|int4]
 * ```
 *
 * @module
 */

import { childMain, procStatus, runChild } from "./child.ts";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readDecoderConfig } from "../core/model/config.ts";
import { exportForTransformersJs } from "../core/model/export.ts";
import { type GgufDType, writeGguf } from "../core/model/gguf.ts";
import { normalizeWeightFormat, weightFormatName } from "../core/model/quantize.ts";
import { loadWeights } from "../core/model/weights.ts";
import { ModelHub } from "../core/services/model_hub.ts";
import { Prng } from "../core/util/prng.ts";
import { bytesPerToken, SHAPES } from "./decode.ts";
import { removeDerived, seededBenchModel, weightsFileBytes } from "./bench_cache.ts";
import { median } from "./timing.ts";
import { peerFormat } from "./quant.ts";

/**
 * The engines compared. `llamacpp` keeps its default float16 KV cache; `llamacpp_f32kv` runs the
 * same GGUF with a float32 cache, as Dramatis keeps at every weight format, so that weights and
 * cache hold the same bits on both sides.
 */
export const LONG_ENGINES = ["dramatis", "llamacpp", "llamacpp_f32kv", "transformersjs"] as const;
/** One engine of {@link LONG_ENGINES}. */
export type LongEngine = typeof LONG_ENGINES[number];

/** Whether the engine is llama.cpp (on the GGUF export), whatever its cache. */
const isLlamaCpp = (e: LongEngine) => e === "llamacpp" || e === "llamacpp_f32kv";

/** Options of {@link benchLong}. */
export interface LongBenchOptions {
  shape?: keyof typeof SHAPES;
  /** Prompt lengths (context depths); default 64, 128, 512, 2048, 4096. */
  contexts?: number[];
  /** Tokens generated after each prompt (decode is timed over all but the first); default 16. */
  newTokens?: number;
  engines?: LongEngine[];
  threads?: number;
  /**
   * Dramatis' weight format (`f32`, `int8`, `int4`, `int4:32`, ...; default `DRAMATIS_DTYPE`,
   * else f32). llama.cpp runs the GGUF export at the same bits (F32, Q8_0, Q4_0);
   * transformers.js runs float32 only, so it is left out of the default engines at other formats.
   */
  dtype?: string;
  /** Simulation turns (0 = no simulation); default 20. */
  turns?: number;
  /** Shared system prompt tokens of the simulation; default 2048. */
  systemTokens?: number;
  /** Where models are built and cached; default `.cache/bench/long-<shape>`. */
  workDir?: string;
  /**
   * Keep the transformers.js export, the GGUF file and the graphs after the run (default false:
   * they are rebuilt from the seeded model, which `decode` shares, by the next run).
   */
  keepCache?: boolean;
  /**
   * Measurements of each engine at each context: each round measures every context and engine,
   * in reverse order every other round; each figure is then the median over the rounds (peak
   * RSS: the largest). On a machine whose speed drifts, one round lets the drift decide a close
   * ratio. Default 1.
   */
  rounds?: number;
  /**
   * Interleaved decode: Dramatis against each llama.cpp engine at each context, and each engine
   * (Dramatis and llama.cpp) at each other context against itself at the first context. One
   * process holds both sides (two engines at one context, or one engine with a sequence at each
   * context) and they take turns decoding `newTokens` tokens, `pairedBursts` turns each, so a
   * machine whose speed drifts slows both sides of every pair alike; the ratio is the median of
   * the pairs' ratios (`decode_<c>_vs_<engine>_paired`, `decode_<c>_vs_<first context>_paired`,
   * and llama.cpp's own `<engine>_decode_<c>_vs_<first context>_paired`). Default 0 (off).
   */
  pairedBursts?: number;
  log?: (line: string) => void;
}

/** Interleaved decode of two engines at one context, or of one engine at two contexts. */
export interface PairedDecode {
  /** The side measured at `context`. */
  engine: LongEngine;
  context: number;
  /** The other side: another engine at `context`, or `engine` itself at `peerContext`. */
  peer: LongEngine;
  /** With peer equal to engine: the other side's context (the first of the run's contexts). */
  peerContext?: number;
  /** Decode tok/s of each burst of each side, in the order taken (the two sides alternate). */
  bursts: number[];
  peerBursts: number[];
  /** Median over the bursts of bursts[i] / peerBursts[i] (NaN when the measurement failed). */
  ratio: number;
  error?: string;
}

/** One engine at one context. */
export interface LongPoint {
  engine: LongEngine;
  context: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Peak resident bytes during the prefill (weights included). */
  prefillPeakRss: number;
  /** Resident bytes after load and warm-up, before the prefill. */
  rssBefore: number;
  error?: string;
}

/** Result of {@link benchLong}. */
export interface LongBenchResult {
  shape: string;
  params: number;
  /** Dramatis' weight format in full (`f32`, `int8:128`, `int4:128`, ...). */
  format: string;
  /** llama.cpp's GGUF encoding at the same bits (absent when llama.cpp did not run). */
  llamacppFormat?: GgufDType;
  /** Bytes of Dramatis' weights in that format (its weights file; f32: 4 × params). */
  weightBytes: number;
  threads: number;
  newTokens: number;
  loadAverage: { start: number; end: number };
  /** Per engine and context: the medians over {@link rounds} (peak RSS: the largest). */
  points: LongPoint[];
  rounds: number;
  /** Every single measurement, in the order taken, when there was more than one round. */
  samples?: LongPoint[];
  simulation?: {
    turns: number;
    systemTokens: number;
    userTokens: number;
    replyTokens: number;
    secondsWithoutReuse: number;
    secondsWithReuse: number;
    reusedPromptTokens: number;
    identicalTranscripts: boolean;
  };
  /** Interleaved decode, with {@link LongBenchOptions.pairedBursts}. */
  paired?: PairedDecode[];
  /** Each ratio named after its sides. */
  ratios: Record<string, number>;
}

const SELF = fileURLToPath(import.meta.url);

async function exists(p: string): Promise<boolean> {
  return await Deno.stat(p).then(() => true, () => false);
}

function resetPeak(): void {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  } catch {
    // not Linux or not permitted: the peak then includes loading
  }
}

function promptOf(n: number, seed: number, vocab: number): number[] {
  const r = new Prng(seed);
  return Array.from({ length: n }, () => 10 + r.int(Math.min(vocab, 1000) - 10));
}

/** Tokens per second over the intervals after the first token (times in ms, one per token). */
function decodeRate(times: readonly number[]): number {
  const n = times.length;
  return (n - 1) / ((times[n - 1] - times[0]) / 1000);
}

interface Paths {
  modelDir: string;
  gguf: string;
  graphs: string;
}

/** Where a run at one weight format keeps its GGUF file and graphs (inside the work folder). */
function derivedPaths(dir: string, format: string, peer: GgufDType | undefined): Paths {
  return {
    modelDir: join(dir, "model"),
    gguf: join(dir, `model-${peer ?? "f32"}.gguf`),
    graphs: join(dir, format === "f32" ? "graphs" : `graphs-${format.replace(":", "-")}`),
  };
}

async function prepare(
  shape: keyof typeof SHAPES,
  dir: string,
  seeded: string,
  paths: Paths,
  engines: readonly LongEngine[],
  peer: GgufDType | undefined,
  log: (l: string) => void,
): Promise<void> {
  const { modelDir, gguf } = paths;
  // The decode suite's seeded model, linked, with positions up to the longest context plus its
  // new tokens.
  await seededBenchModel(
    seeded,
    SHAPES[shape],
    log,
    { dir, maxPositionEmbeddings: 8192 },
  );
  const needExport = engines.includes("transformersjs") &&
    !(await exists(join(modelDir, "onnx", "model.onnx")));
  const needGguf = engines.some(isLlamaCpp) && !(await exists(gguf));
  if (needExport || needGguf) {
    log(
      `writing ${
        [needExport && "the transformers.js export", needGguf && `the ${peer} GGUF`]
          .filter(Boolean).join(" and ")
      } of ${modelDir}`,
    );
    const config = await readDecoderConfig(modelDir);
    const weights = await loadWeights(modelDir, config);
    if (needExport) await exportForTransformersJs(modelDir, config, weights);
    if (needGguf) {
      const tokenizer = JSON.parse(await Deno.readTextFile(join(modelDir, "tokenizer.json")));
      await writeGguf(gguf, config, weights, { tokenizer, dtype: peer });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Child measurements
// ---------------------------------------------------------------------------------------------

interface ChildTask {
  kind: "point" | "simulation" | "paired";
  /** With kind "paired": bursts per side. */
  bursts?: number;
  /** With kind "paired": the other side's engine (default `engine`). */
  peer?: LongEngine;
  /** With kind "paired": the other side's context (default `context`). */
  peerContext?: number;
  engine: LongEngine;
  paths: Paths;
  context: number;
  newTokens: number;
  threads: number;
  dtype: string;
  vocab: number;
  turns?: number;
  systemTokens?: number;
}

async function pointDramatis(t: ChildTask): Promise<LongPoint> {
  const engine = await new ModelHub({ cacheDir: t.paths.graphs, threads: t.threads })
    .openEngine(t.paths.modelDir, { prefixCacheBytes: 0, dtype: t.dtype });
  try {
    const V = engine.config.vocabSize;
    await engine.generate({ inputIds: [promptOf(16, 1, V)] }, { maxNewTokens: 2, eosTokenIds: [] });
    const rssBefore = procStatus("VmRSS");
    resetPeak();
    const r = await engine.generate({ inputIds: [promptOf(t.context, 2, V)] }, {
      maxNewTokens: t.newTokens,
      eosTokenIds: [],
    });
    return {
      engine: "dramatis",
      context: t.context,
      prefillTokensPerSecond: r.stats.prefillTokensPerSecond,
      decodeTokensPerSecond: r.stats.decodeTokensPerSecond,
      prefillPeakRss: procStatus("VmHWM"),
      rssBefore,
    };
  } finally {
    await engine.close();
  }
}

/** llama.cpp on the GGUF export: the model once, and a context of each size (`kind` picks its cache). */
async function openLlamaCpp(t: ChildTask, kind: LongEngine, contextSizes: readonly number[]) {
  const { getLlama } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" } as never);
  const model = await llama.loadModel({ modelPath: t.paths.gguf });
  const contexts: Awaited<ReturnType<typeof model.createContext>>[] = [];
  const close = async () => {
    for (const c of contexts) await c.dispose();
    await model.dispose();
  };
  try {
    for (const contextSize of contextSizes) {
      contexts.push(
        await model.createContext({
          contextSize,
          batchSize: 512,
          threads: t.threads,
          ...(kind === "llamacpp_f32kv"
            ? { experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" }
            : {}),
        }),
      );
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { contexts, close };
}

async function pointLlamaCpp(t: ChildTask): Promise<LongPoint> {
  const V = t.vocab;
  const { contexts: [ctx], close } = await openLlamaCpp(t, t.engine, [
    Math.max(256, t.context + t.newTokens + 32),
  ]);
  try {
    const warm = ctx.getSequence();
    let k = 0;
    for await (const _ of warm.evaluate(promptOf(16, 1, V) as never, { temperature: 0 })) {
      if (++k >= 2) break;
    }
    warm.dispose();
    const seq = ctx.getSequence();
    const rssBefore = procStatus("VmRSS");
    resetPeak();
    const times: number[] = [];
    const t0 = performance.now();
    for await (
      const _ of seq.evaluate(promptOf(t.context, 2, V) as never, { temperature: 0 })
    ) {
      times.push(performance.now());
      if (times.length >= t.newTokens) break;
    }
    const peak = procStatus("VmHWM");
    return {
      engine: t.engine,
      context: t.context,
      prefillTokensPerSecond: t.context / ((times[0] - t0) / 1000),
      decodeTokensPerSecond: decodeRate(times),
      prefillPeakRss: peak,
      rssBefore,
    };
  } finally {
    await close();
  }
}

async function pointTransformersJs(t: ChildTask): Promise<LongPoint> {
  const { AutoModelForCausalLM, env, Tensor } = await import("@huggingface/transformers");
  env.allowRemoteModels = false;
  const model = await AutoModelForCausalLM.from_pretrained(t.paths.modelDir, {
    dtype: "fp32",
    device: "cpu",
    local_files_only: true,
    session_options: { intraOpNumThreads: t.threads },
  });
  const V = t.vocab;
  const gen = async (prompt: number[], n: number) => {
    const times: number[] = [];
    const t0 = performance.now();
    await model.generate({
      input_ids: new Tensor("int64", BigInt64Array.from(prompt, BigInt), [1, prompt.length]),
      attention_mask: new Tensor("int64", new BigInt64Array(prompt.length).fill(1n), [
        1,
        prompt.length,
      ]),
      max_new_tokens: n,
      min_new_tokens: n,
      do_sample: false,
      streamer: { put: () => times.push(performance.now()), end: () => {} },
    } as never);
    // put() runs once with the prompt, then once per generated token.
    return { t0, times: times.slice(1) };
  };
  try {
    await gen(promptOf(16, 1, V), 2);
    const rssBefore = procStatus("VmRSS");
    resetPeak();
    const { t0, times } = await gen(promptOf(t.context, 2, V), t.newTokens);
    return {
      engine: "transformersjs",
      context: t.context,
      prefillTokensPerSecond: t.context / ((times[0] - t0) / 1000),
      decodeTokensPerSecond: decodeRate(times),
      prefillPeakRss: procStatus("VmHWM"),
      rssBefore,
    };
  } finally {
    await model.dispose();
  }
}

/** The multi-turn scene: a shared system prompt, then user and reply turns, greedy. */
async function simulation(t: ChildTask): Promise<NonNullable<LongBenchResult["simulation"]>> {
  const engine = await new ModelHub({ cacheDir: t.paths.graphs, threads: t.threads })
    .openEngine(t.paths.modelDir, { dtype: t.dtype });
  const turns = t.turns ?? 20;
  const S = t.systemTokens ?? 2048;
  const U = 24;
  const R = 16;
  try {
    const V = engine.config.vocabSize;
    const system = promptOf(S, 3, V);
    const scene = async (reuse: boolean) => {
      let history = [...system];
      const transcript: number[][] = [];
      let reused = 0;
      const t0 = performance.now();
      for (let k = 0; k < turns; k++) {
        history = [...history, ...promptOf(U, 100 + k, V)];
        const r = await engine.generate({ inputIds: [history] }, {
          maxNewTokens: R,
          eosTokenIds: [],
          ...(reuse ? {} : { prefixCache: undefined }),
        });
        transcript.push(r.completions[0].tokens);
        reused += r.stats.reusedPromptTokens;
        history = [...history, ...r.completions[0].tokens];
      }
      return { seconds: (performance.now() - t0) / 1000, transcript, reused };
    };
    await engine.generate({ inputIds: [promptOf(16, 1, V)] }, {
      maxNewTokens: 2,
      prefixCache: undefined,
    });
    const without = await scene(false);
    const withReuse = await scene(true);
    return {
      turns,
      systemTokens: S,
      userTokens: U,
      replyTokens: R,
      secondsWithoutReuse: without.seconds,
      secondsWithReuse: withReuse.seconds,
      reusedPromptTokens: withReuse.reused,
      identicalTranscripts: JSON.stringify(without.transcript) ===
        JSON.stringify(withReuse.transcript),
    };
  } finally {
    await engine.close();
  }
}

/**
 * Two sides in one process, both prefilled (their first bursts, untimed), then taking turns: each
 * burst decodes `newTokens` tokens (rate over the intervals after its first token, as the points
 * measure), the side that starts alternating from pair to pair. Two engines at one context get
 * the same prompt; one engine at two contexts gets another prompt for its second sequence, so the
 * two share no prefix. Dramatis holds its sides in one engine and continues each sequence through
 * its prefix cache (each burst prefills only the last burst's tokens); llama.cpp loads the model
 * once, with a context per side, and resumes each side's generator.
 */
async function pairedDecode(t: ChildTask): Promise<{ bursts: number[]; peerBursts: number[] }> {
  const bursts = t.bursts ?? 1;
  const V = t.vocab;
  const peer = t.peer ?? t.engine;
  const peerContext = t.peerContext ?? t.context;
  if (peer === t.engine && peerContext === t.context) {
    throw new TypeError(`a pair of ${peer} with itself needs another peerContext`);
  }
  if (![t.engine, peer].every((e) => e === "dramatis" || isLlamaCpp(e))) {
    throw new TypeError(`pairs run dramatis and llama.cpp engines, not ${t.engine} and ${peer}`);
  }
  const sides = [
    { engine: t.engine, context: t.context, prompt: promptOf(t.context, 2, V) },
    {
      engine: peer,
      context: peerContext,
      prompt: promptOf(peerContext, peer === t.engine ? 3 : 2, V),
    },
  ];
  const closers: (() => Promise<void>)[] = [];
  try {
    const burst: (() => Promise<number>)[] = [];
    const ours = sides.filter((s) => s.engine === "dramatis");
    if (ours.length > 0) {
      // The prefix cache holds, at any time, the longest sequence's last two saved prefixes and
      // the other sequence's (about three times the longest, with room to spare).
      const config = await readDecoderConfig(t.paths.modelDir);
      const perPosition = 2 * config.numLayers * config.numKvHeads * config.headDim * 4;
      const longest = Math.max(...ours.map((s) => s.context)) + (bursts + 2) * t.newTokens;
      const engine = await new ModelHub({ cacheDir: t.paths.graphs, threads: t.threads })
        .openEngine(t.paths.modelDir, {
          dtype: t.dtype,
          prefixCacheBytes: Math.max(256 * 1024 * 1024, 4 * longest * perPosition),
        });
      closers.push(() => engine.close());
      sides.forEach((s, i) => {
        if (s.engine !== "dramatis") return;
        const seq = [...s.prompt];
        burst[i] = async () => {
          const r = await engine.generate({ inputIds: [seq] }, {
            maxNewTokens: t.newTokens,
            eosTokenIds: [],
          });
          seq.push(...r.completions[0].tokens);
          return r.stats.decodeTokensPerSecond;
        };
      });
    }
    for (const kind of new Set(sides.map((s) => s.engine).filter(isLlamaCpp))) {
      const mine = sides.flatMap((s, i) => s.engine === kind ? [i] : []);
      const llama = await openLlamaCpp(
        t,
        kind,
        mine.map((i) => sides[i].context + (bursts + 1) * t.newTokens + 32),
      );
      closers.push(llama.close);
      mine.forEach((i, k) => {
        const tokens = llama.contexts[k].getSequence().evaluate(sides[i].prompt as never, {
          temperature: 0,
        })[Symbol.asyncIterator]();
        burst[i] = async () => {
          const times: number[] = [];
          while (times.length < t.newTokens) {
            if ((await tokens.next()).done) throw new Error("llama.cpp stopped generating");
            times.push(performance.now());
          }
          return decodeRate(times);
        };
      });
    }
    const [a, b] = await takeTurns(bursts, burst[0], burst[1]);
    return { bursts: a, peerBursts: b };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

/**
 * Prefills both sides (their first bursts, untimed), then `bursts` timed turns each, the side
 * that starts alternating from pair to pair.
 */
async function takeTurns(
  bursts: number,
  first: () => Promise<number>,
  second: () => Promise<number>,
): Promise<[number[], number[]]> {
  await first();
  await second();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < bursts; i++) {
    if (i % 2 === 0) {
      a.push(await first());
      b.push(await second());
    } else {
      b.push(await second());
      a.push(await first());
    }
  }
  return [a, b];
}

/**
 * The median over pairs of `a[i] / b[i]` (measurements taken side by side).
 *
 * @example
 * ```ts
 * import { pairedRatio } from "./long.ts";
 * console.log(pairedRatio([10, 8, 12], [10, 10, 10])); // 1
 * ```
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `paired measurements need equal, non-empty lists (${a.length}, ${b.length})`,
    );
  }
  return median(a.map((x, i) => x / b[i]));
}

async function child(task: ChildTask): Promise<unknown> {
  if (task.kind === "simulation") return await simulation(task);
  if (task.kind === "paired") return await pairedDecode(task);
  switch (task.engine) {
    case "dramatis":
      return await pointDramatis(task);
    case "llamacpp":
    case "llamacpp_f32kv":
      return await pointLlamaCpp(task);
    case "transformersjs":
      return await pointTransformersJs(task);
  }
}

function runTask(task: ChildTask): Promise<unknown> {
  return runChild(SELF, task, `child ${task.kind} ${task.engine} @${task.context}`);
}

// ---------------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------------

/**
 * Runs the long-context benchmark.
 *
 * @example
 * ```ts
 * import { benchLong } from "./long.ts";
 * const r = await benchLong({ shape: "small", contexts: [64, 256], turns: 4, systemTokens: 256 });
 * console.log(r.ratios);
 * ```
 */
export async function benchLong(options: LongBenchOptions = {}): Promise<LongBenchResult> {
  const dir = resolve(
    options.workDir ?? join(".cache", "bench", `long-${options.shape ?? "qwen2.5-0.5b"}`),
  );
  const format = weightFormatName(
    normalizeWeightFormat(options.dtype ?? (Deno.env.get("DRAMATIS_DTYPE") || "f32"), "--dtype"),
  );
  const peer = peerFormat(format);
  const paths = derivedPaths(dir, format, peer);
  try {
    return await measureLong(options, dir, format, peer, paths);
  } finally {
    // Exports, GGUF and graphs are derived from the (shared) seeded model: rebuilt next run.
    await removeDerived(
      [join(dir, "model", "onnx"), paths.gguf, paths.graphs],
      options.keepCache,
      options.log ?? ((l: string) => console.error(l)),
    );
  }
}

async function measureLong(
  options: LongBenchOptions,
  dir: string,
  format: string,
  peer: GgufDType | undefined,
  paths: Paths,
): Promise<LongBenchResult> {
  const shape = options.shape ?? "qwen2.5-0.5b";
  if (!SHAPES[shape]) {
    throw new RangeError(`shape is ${shape}; use one of ${Object.keys(SHAPES).join(", ")}`);
  }
  const contexts = options.contexts ?? [64, 128, 512, 2048, 4096];
  // transformers.js runs the float32 export only; llama.cpp needs a GGUF encoding at these bits.
  const runs = (e: LongEngine) =>
    e === "dramatis" || (isLlamaCpp(e) ? peer !== undefined : format === "f32");
  const engines = options.engines ?? LONG_ENGINES.filter(runs);
  for (const e of engines) {
    if (!LONG_ENGINES.includes(e)) {
      throw new RangeError(`engine ${e}; use ${LONG_ENGINES.join(", ")}`);
    }
    if (!runs(e)) {
      throw new RangeError(
        `engine ${e} has no weights at the bits of --dtype ${format} (transformers.js: f32 ` +
          `only; llama.cpp: f32, int8, int4); leave it out of --engines`,
      );
    }
  }
  const newTokens = options.newTokens ?? 16;
  if (!contexts.every((c) => Number.isInteger(c) && c >= 2 && c + newTokens + 1 <= 8192)) {
    throw new RangeError(`contexts ${contexts}; pass whole numbers from 2 to ${8191 - newTokens}`);
  }
  const threads = options.threads ?? navigator.hardwareConcurrency;
  const log = options.log ?? ((l: string) => console.error(l));
  // The decode suite's seeded model folder (inside the work folder when one is given).
  const seeded = options.workDir ? join(dir, "seeded") : join(".cache", "bench", `decode-${shape}`);
  await prepare(shape, dir, seeded, paths, engines, peer, log);
  const config = await readDecoderConfig(paths.modelDir);
  const { params } = bytesPerToken(config, 0);
  const rounds = options.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`rounds is ${rounds}; pass a whole number >= 1`);
  }
  const pairedBursts = options.pairedBursts ?? 0;
  if (!Number.isInteger(pairedBursts) || pairedBursts < 0) {
    throw new RangeError(`pairedBursts is ${pairedBursts}; pass a whole number >= 0`);
  }
  // One measurement in its own process.
  const task = (
    kind: ChildTask["kind"],
    engine: LongEngine,
    context: number,
    extra: Partial<ChildTask> = {},
  ) =>
    runTask({
      kind,
      engine,
      paths,
      context,
      newTokens,
      threads,
      dtype: format,
      vocab: config.vocabSize,
      ...extra,
    });
  const start = Deno.loadavg()[0];
  const points: LongPoint[] = [];
  const samples: LongPoint[] = [];
  // Every round measures every context, so a machine whose speed drifts during the run moves
  // all contexts alike (a ratio between contexts measured an hour apart would carry the drift);
  // contexts and engines run in reverse order every other round.
  for (let round = 0; round < rounds; round++) {
    const flip = <T>(xs: readonly T[]) => round % 2 === 0 ? xs : [...xs].reverse();
    for (const context of flip(contexts)) {
      for (const engine of flip(engines)) {
        log(
          `${engine} at context ${context}${rounds > 1 ? ` (round ${round + 1}/${rounds})` : ""}`,
        );
        try {
          samples.push(
            await task("point", engine, context) as LongPoint,
          );
          log(`  ${JSON.stringify(samples[samples.length - 1])}`);
        } catch (e) {
          samples.push({
            engine,
            context,
            prefillTokensPerSecond: NaN,
            decodeTokensPerSecond: NaN,
            prefillPeakRss: NaN,
            rssBefore: NaN,
            error: (e as Error).message,
          });
        }
      }
    }
  }
  for (const context of contexts) {
    for (const engine of engines) {
      points.push(medianPoint(samples.filter((p) => p.engine === engine && p.context === context)));
    }
  }
  const first = contexts[0];
  const paired: PairedDecode[] = [];
  if (pairedBursts > 0) {
    // Dramatis against each llama.cpp engine at each context, then each engine at each other
    // context against itself at the first.
    const pairs: { engine: LongEngine; context: number; peer: LongEngine; peerContext?: number }[] =
      [];
    const inTurns = engines.filter((e) => e === "dramatis" || isLlamaCpp(e));
    for (const context of contexts) {
      if (engines.includes("dramatis")) {
        for (const peer of engines.filter(isLlamaCpp)) {
          pairs.push({ engine: "dramatis", context, peer });
        }
      }
      if (context === first) continue;
      for (const e of inTurns) pairs.push({ engine: e, context, peer: e, peerContext: first });
    }
    for (const pair of pairs) {
      const { engine, context, peer, peerContext } = pair;
      log(
        `${engine} at context ${context} and ${peer}${
          peerContext === undefined ? "" : ` at context ${peerContext}`
        } in turns (${pairedBursts} bursts each)`,
      );
      try {
        const r = await task("paired", engine, context, {
          bursts: pairedBursts,
          peer,
          peerContext,
        }) as { bursts: number[]; peerBursts: number[] };
        paired.push({ ...pair, ...r, ratio: pairedRatio(r.bursts, r.peerBursts) });
        log(`  ${JSON.stringify(paired[paired.length - 1])}`);
      } catch (e) {
        const error = (e as Error).message;
        paired.push({ ...pair, bursts: [], peerBursts: [], ratio: NaN, error });
        log(`  failed: ${error}`);
      }
    }
  }
  const turns = options.turns ?? 20;
  let sim: LongBenchResult["simulation"];
  if (turns > 0) {
    log(`simulation: ${turns} turns, ${options.systemTokens ?? 2048}-token system prompt`);
    sim = await task("simulation", "dramatis", 0, {
      turns,
      systemTokens: options.systemTokens ?? 2048,
    }) as LongBenchResult["simulation"];
  }
  // What the memory ratios divide by: float32, 4 bytes per parameter; otherwise the weights file
  // the engine wrote (none when it did not run).
  const weightBytes = format === "f32"
    ? 4 * params
    : engines.includes("dramatis")
    ? await weightsFileBytes(paths.graphs)
    : NaN;
  const at = (e: LongEngine, c: number) => points.find((p) => p.engine === e && p.context === c);
  const ratios: Record<string, number> = {};
  const name = (e: LongEngine) => e === "dramatis" ? "" : `_vs_${e}`;
  for (const c of contexts) {
    const d = at("dramatis", c);
    if (!d) continue;
    if (c !== first) {
      ratios[`decode_${c}_vs_${first}`] = d.decodeTokensPerSecond /
        at("dramatis", first)!.decodeTokensPerSecond;
    }
    ratios[`prefill_peak_rss_${c}_vs_weights`] = d.prefillPeakRss / weightBytes;
    for (const e of engines) {
      if (e === "dramatis") continue;
      const o = at(e, c)!;
      ratios[`decode_${c}${name(e)}`] = d.decodeTokensPerSecond / o.decodeTokensPerSecond;
      ratios[`prefill_${c}${name(e)}`] = d.prefillTokensPerSecond / o.prefillTokensPerSecond;
    }
  }
  for (const p of paired) {
    if (p.error) continue;
    const side = p.engine === "dramatis" ? "" : `${p.engine}_`;
    const other = p.peerContext === undefined ? p.peer : p.peerContext;
    ratios[`${side}decode_${p.context}_vs_${other}_paired`] = p.ratio;
  }
  if (sim) ratios.prefix_reuse_speedup = sim.secondsWithoutReuse / sim.secondsWithReuse;
  return {
    shape,
    params,
    format,
    ...(engines.some(isLlamaCpp) ? { llamacppFormat: peer } : {}),
    weightBytes,
    threads,
    newTokens,
    loadAverage: { start, end: Deno.loadavg()[0] },
    points,
    rounds,
    ...(rounds > 1 ? { samples } : {}),
    ...(paired.length > 0 ? { paired } : {}),
    simulation: sim,
    ratios,
  };
}

/**
 * One engine's measurements at one context as one point: the median of each speed over the
 * measurements that ran, the largest peak RSS, the median RSS before the prefill; an error only
 * when every measurement failed.
 *
 * @example
 * ```ts
 * import { medianPoint } from "./long.ts";
 * const p = (d: number) => ({
 *   engine: "dramatis" as const, context: 64, prefillTokensPerSecond: 100,
 *   decodeTokensPerSecond: d, prefillPeakRss: d, rssBefore: 1,
 * });
 * console.log(medianPoint([p(9), p(12), p(10)]).decodeTokensPerSecond); // 10
 * ```
 */
export function medianPoint(samples: LongPoint[]): LongPoint {
  const ok = samples.filter((p) => !p.error);
  if (ok.length === 0) return samples[samples.length - 1];
  const of = (f: (p: LongPoint) => number) => median(ok.map(f));
  return {
    engine: ok[0].engine,
    context: ok[0].context,
    prefillTokensPerSecond: of((p) => p.prefillTokensPerSecond),
    decodeTokensPerSecond: of((p) => p.decodeTokensPerSecond),
    prefillPeakRss: Math.max(...ok.map((p) => p.prefillPeakRss)),
    rssBefore: of((p) => p.rssBefore),
  };
}

/** Human-readable report of a {@link LongBenchResult}. */
export function formatLongBench(r: LongBenchResult): string {
  const f = (x: number, d = 1) => Number.isFinite(x) ? x.toFixed(d) : "n/a";
  const gib = (b: number) => f(b / 2 ** 30, 2);
  const lines = [
    `long-context benchmark: ${r.shape}-shaped model at ${r.format}${
      r.llamacppFormat ? ` (llama.cpp at ${r.llamacppFormat})` : ""
    }, ${f(r.params / 1e6)} M params ` +
    `(${gib(r.weightBytes)} GiB of weights), ${r.threads} threads, ${r.newTokens} new tokens` +
    `${r.rounds > 1 ? `, medians of ${r.rounds} rounds` : ""} (load average ${
      f(r.loadAverage.start, 2)
    } → ${f(r.loadAverage.end, 2)})`,
    `  engine          context   prefill tok/s   decode tok/s   prefill peak RSS GiB`,
  ];
  for (const p of r.points) {
    lines.push(
      `  ${p.engine.padEnd(15)} ${String(p.context).padStart(7)}   ${
        f(p.prefillTokensPerSecond).padStart(13)
      }   ${f(p.decodeTokensPerSecond).padStart(12)}   ${gib(p.prefillPeakRss).padStart(20)}${
        p.error ? `  (${p.error})` : ""
      }`,
    );
  }
  if (r.simulation) {
    const s = r.simulation;
    lines.push(
      `simulation: ${s.turns} turns, ${s.systemTokens}-token system prompt: ` +
        `${f(s.secondsWithoutReuse)} s without prefix reuse, ${f(s.secondsWithReuse)} s with ` +
        `(${s.reusedPromptTokens} prompt tokens reused); transcripts ${
          s.identicalTranscripts ? "identical" : "DIFFER"
        }`,
    );
  }
  lines.push("ratios:");
  for (const [k, v] of Object.entries(r.ratios)) lines.push(`  ${k} = ${f(v, 3)}`);
  return lines.join("\n");
}

if (import.meta.main) await childMain(child);
