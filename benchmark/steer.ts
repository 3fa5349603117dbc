/**
 * Steering benchmark: decode tokens/s of one model three ways, measured in one run with the runs
 * interleaved — the graph built with steering inputs fed K = 1 (one persona-vector addition at
 * the middle block, `response` mode, i.e. active on every decode token) and fed K = 0 (same graph,
 * no edit), plus the plain graph without steering inputs as a second baseline. Goal: steering
 * costs at most 5% of decode throughput.
 *
 * The model has the shape of Qwen2.5-0.5B (24 layers, hidden 896, vocab 151936) with seeded
 * random weights (`createTinyModel`), built once into `.cache/bench/decode-<shape>/` and shared
 * with the decode benchmark; `--shape small` is a 4-layer model for quick checks.
 *
 * ```
 * deno task bench steer [--json]   (flags: deno task bench --help)
 * ```
 *
 * Method: per variant, greedy generation of 1 and of N new tokens on the same prompt, `runs`
 * times after one warm-up; decode tok/s = (N − 1) / (median(t_N) − median(t₁)). EOS is disabled.
 *
 * @module
 */

import { join } from "node:path";
import type { ResidualEdit } from "../core/contracts/steerer.ts";
import { readDecoderConfig } from "../core/model/config.ts";
import { ModelHub } from "../core/services/model_hub.ts";
import { generate } from "../core/model/generate.ts";
import { Prng } from "../core/util/prng.ts";
import { SHAPES } from "./decode.ts";
import { removeDerived, seededBenchModel } from "./bench_cache.ts";
import { decodeTiming } from "./timing.ts";

/** Options of {@link benchSteer}. */
export interface SteerBenchOptions {
  shape?: keyof typeof SHAPES;
  promptTokens?: number;
  newTokens?: number;
  runs?: number;
  threads?: number;
  /** Default `.cache/bench/decode-<shape>` (the model) and `…/steer-graphs` (exports). */
  workDir?: string;
  /** Keep the exported graphs after the run (default false: rebuilt by the next run). */
  keepCache?: boolean;
  log?: (line: string) => void;
}

/** Timings of one variant. */
export interface VariantTiming {
  decodeTokensPerSecond: number;
  /** From the fastest runs (less sensitive to other processes). */
  bestDecodeTokensPerSecond: number;
  t1: number;
  tN: number;
}

/** Result of {@link benchSteer}. */
export interface SteerBenchResult {
  shape: string;
  numLayers: number;
  hiddenSize: number;
  promptTokens: number;
  newTokens: number;
  runs: number;
  threads: number | null;
  /** 1-minute load average at the start and the end (other processes skew timings). */
  loadAverage: { start: number; end: number };
  steeredK1: VariantTiming;
  steeringGraphK0: VariantTiming;
  plainGraph: VariantTiming;
  /** 1 − steered / baseline, in percent (negative: steered was faster), medians and fastest. */
  overheadPercent: {
    vsK0: number;
    vsPlain: number;
    bestVsK0: number;
    bestVsPlain: number;
  };
  /** Whether the median overhead against K = 0 is within 5%. */
  withinGoal: boolean;
}

/**
 * Runs the steering benchmark.
 *
 * @example
 * ```ts ignore
 * import { benchSteer, formatSteerBench } from "./steer.ts";
 * console.log(formatSteerBench(await benchSteer({ shape: "small", runs: 2 })));
 * ```
 */
export async function benchSteer(options: SteerBenchOptions = {}): Promise<SteerBenchResult> {
  const shape = options.shape ?? "qwen2.5-0.5b";
  const spec = SHAPES[shape];
  if (!spec) {
    throw new RangeError(
      `shape is ${JSON.stringify(shape)}; use one of ${Object.keys(SHAPES).join(", ")}`,
    );
  }
  const P = options.promptTokens ?? 32;
  const N = options.newTokens ?? 24;
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
  const config = await readDecoderConfig(modelDir);
  const cacheDir = join(dir, "steer-graphs");
  const hub = new ModelHub({ threads: options.threads, cacheDir });
  const load = (steering: boolean) =>
    hub.with({ onProgress: (s) => log(`${steering ? "steering" : "plain"} graph: ${s}`) })
      .openEngine(modelDir, { steering });
  const plain = await load(false);
  const steered = await load(true);
  const r = new Prng(7);
  const prompt = Array.from({ length: P }, () => r.int(Math.min(config.vocabSize, 1000)));
  const vector = new Float32Array(config.hiddenSize).map(() => (r.next() - 0.5) * 0.1);
  const edit: ResidualEdit = {
    block: Math.floor(config.numLayers / 2),
    type: "add",
    vector,
    coefficient: 2,
    positions: "response",
  };
  const variants = [
    { name: "steeredK1", engine: steered, edits: [edit] },
    { name: "steeringGraphK0", engine: steered, edits: [] as ResidualEdit[] },
    { name: "plainGraph", engine: plain, edits: [] as ResidualEdit[] },
  ] as const;
  const times: Record<string, { t1: number[]; tN: number[] }> = {};
  for (const v of variants) times[v.name] = { t1: [], tN: [] };
  const startLoad = Deno.loadavg()[0];
  try {
    for (let i = 0; i <= runs; i++) {
      log(`run ${i}/${runs}${i === 0 ? " (warm-up)" : ""}`);
      for (const n of [1, N]) {
        for (const v of variants) {
          const t0 = performance.now();
          await generate(v.engine.decoder, [prompt], {
            maxNewTokens: n,
            temperature: 0,
            eosTokenIds: [],
            edits: v.edits,
          });
          const t = (performance.now() - t0) / 1000;
          if (i > 0) times[v.name][n === 1 ? "t1" : "tN"].push(t);
        }
      }
    }
  } finally {
    await plain.close();
    await steered.close();
    await removeDerived([cacheDir], options.keepCache, log);
  }
  const timing = (t: { t1: number[]; tN: number[] }) => decodeTiming(t, N);
  const k1 = timing(times.steeredK1);
  const k0 = timing(times.steeringGraphK0);
  const pl = timing(times.plainGraph);
  const over = (a: number, b: number) => 100 * (1 - a / b);
  const overheadPercent = {
    vsK0: over(k1.decodeTokensPerSecond, k0.decodeTokensPerSecond),
    vsPlain: over(k1.decodeTokensPerSecond, pl.decodeTokensPerSecond),
    bestVsK0: over(k1.bestDecodeTokensPerSecond, k0.bestDecodeTokensPerSecond),
    bestVsPlain: over(k1.bestDecodeTokensPerSecond, pl.bestDecodeTokensPerSecond),
  };
  return {
    shape,
    numLayers: config.numLayers,
    hiddenSize: config.hiddenSize,
    promptTokens: P,
    newTokens: N,
    runs,
    threads: options.threads ?? null,
    loadAverage: { start: startLoad, end: Deno.loadavg()[0] },
    steeredK1: k1,
    steeringGraphK0: k0,
    plainGraph: pl,
    overheadPercent,
    withinGoal: overheadPercent.vsK0 <= 5,
  };
}

/**
 * Human-readable report of a {@link SteerBenchResult}.
 *
 * @example
 * ```ts ignore
 * import { benchSteer, formatSteerBench } from "./steer.ts";
 * console.log(formatSteerBench(await benchSteer({ shape: "small" })));
 * ```
 */
export function formatSteerBench(r: SteerBenchResult): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const row = (name: string, t: VariantTiming) =>
    `  ${name.padEnd(34)} ${f(t.decodeTokensPerSecond).padStart(10)}   ${
      f(t.bestDecodeTokensPerSecond).padStart(10)
    }`;
  return [
    `steering benchmark: ${r.shape}-shaped fp32 model (${r.numLayers} layers, hidden ${r.hiddenSize}), ` +
    `prompt ${r.promptTokens}, ${r.newTokens} new tokens, median of ${r.runs} ` +
    `(load average ${f(r.loadAverage.start, 2)} → ${f(r.loadAverage.end, 2)})`,
    `  variant                            decode tok/s  (fastest)`,
    row("steering graph, K = 1 (steered)", r.steeredK1),
    row("steering graph, K = 0", r.steeringGraphK0),
    row("plain graph (no steering inputs)", r.plainGraph),
    `  steering overhead: ${f(r.overheadPercent.vsK0)}% vs K = 0, ${
      f(r.overheadPercent.vsPlain)
    }% vs plain ` +
    `(fastest runs: ${f(r.overheadPercent.bestVsK0)}%, ${
      f(r.overheadPercent.bestVsPlain)
    }%); goal ≤ 5%: ` +
    (r.withinGoal ? "met" : "not met"),
  ].join("\n");
}
