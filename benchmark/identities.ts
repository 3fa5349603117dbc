/**
 * Identity-expert benchmark: decode tokens/s of one model measured in one run with the runs
 * interleaved — the plain graph (no adapter) against the graph with a hirpf adapter (A5 defaults:
 * alternate insertion, r = 16, q/k/v/o, hard masks) fed 0, 1 and 3 active identities. Goal: one
 * identity costs at most 15% of plain decode throughput.
 *
 * The model has the shape of Qwen2.5-0.5B (24 layers, hidden 896, vocab 151936) with seeded
 * random weights, built once into `.cache/bench/decode-<shape>/` and shared with the decode and
 * steering benchmarks; `--shape small` is a 4-layer model for quick checks.
 *
 * ```
 * deno task bench identities [--json]   (flags: deno task bench --help)
 * ```
 *
 * The Engine bakes the adapter's parameters into the exported graph, so a decode step feeds only
 * the identity masks; the remaining overhead is the experts' compute.
 *
 * Method: per variant, greedy generation of 1 and of N new tokens on the same prompt, `runs`
 * times after one warm-up; decode tok/s = (N − 1) / (median(t_N) − median(t₁)). EOS is disabled.
 *
 * @module
 */

import { join } from "node:path";
import { readDecoderConfig } from "../core/model/config.ts";
import { ModelHub } from "../core/services/model_hub.ts";
import { IdentityAdapter } from "../plugins/hirpf/adapter.ts";
import { SHAPES } from "./decode.ts";
import { removeDerived, seededBenchModel } from "./bench_cache.ts";
import { decodeTiming } from "./timing.ts";

/** Options of {@link benchIdentities}. */
export interface IdentityBenchOptions {
  shape?: keyof typeof SHAPES;
  newTokens?: number;
  runs?: number;
  threads?: number;
  /** LoRA rank of the experts (default 16). */
  r?: number;
  /** Default `.cache/bench/decode-<shape>` (the model) and `…/identity-graphs` (exports). */
  workDir?: string;
  /** Keep the exported graphs after the run (default false: rebuilt by the next run). */
  keepCache?: boolean;
  log?: (line: string) => void;
}

/** Timings of one variant. */
export interface IdentityVariantTiming {
  decodeTokensPerSecond: number;
  /** From the fastest runs (less sensitive to other processes). */
  bestDecodeTokensPerSecond: number;
  t1: number;
  tN: number;
}

/** Result of {@link benchIdentities}. */
export interface IdentityBenchResult {
  shape: string;
  numLayers: number;
  hiddenSize: number;
  promptTokens: number;
  newTokens: number;
  runs: number;
  threads: number | null;
  r: number;
  /** Adapter parameters (floats), baked into the adapter graph (not fed per step). */
  adapterParameters: number;
  /** 1-minute load average at the start and the end (other processes skew timings). */
  loadAverage: { start: number; end: number };
  plain: IdentityVariantTiming;
  identities0: IdentityVariantTiming;
  identities1: IdentityVariantTiming;
  identities3: IdentityVariantTiming;
  /** 1 − variant / plain, in percent (medians). */
  overheadPercent: { identities0: number; identities1: number; identities3: number };
  /** Whether the median overhead of one identity is within 15%. */
  withinGoal: boolean;
}

/**
 * Runs the identity-expert benchmark.
 *
 * @example
 * ```ts ignore
 * import { benchIdentities, formatIdentityBench } from "./identities.ts";
 * console.log(formatIdentityBench(await benchIdentities({ shape: "small", runs: 2 })));
 * ```
 */
export async function benchIdentities(
  options: IdentityBenchOptions = {},
): Promise<IdentityBenchResult> {
  const shape = options.shape ?? "qwen2.5-0.5b";
  const spec = SHAPES[shape];
  if (!spec) {
    throw new RangeError(
      `shape is ${JSON.stringify(shape)}; use one of ${Object.keys(SHAPES).join(", ")}`,
    );
  }
  const N = options.newTokens ?? 24;
  const runs = options.runs ?? 3;
  const r = options.r ?? 16;
  for (const [k, v, min] of [["newTokens", N, 2], ["runs", runs, 1], ["r", r, 1]] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`${k} is ${v}; pass a whole number >= ${min}`);
    }
  }
  const log = options.log ?? ((l: string) => console.error(l));
  const dir = options.workDir ?? join(".cache", "bench", `decode-${shape}`);
  const modelDir = await seededBenchModel(dir, spec, log);
  const config = await readDecoderConfig(modelDir);
  const adapter = IdentityAdapter.create(config, { r, seed: 1 });
  // Non-zero B so the experts change the output (B = 0 at init would be a no-op in value only).
  for (const p of adapter.parameters()) {
    if (p.name.includes("lora_B")) {
      p.data.forEach((_, i, a) => (a[i] = ((i * 7919) % 13 - 6) * 1e-3));
    }
  }
  const cacheDir = join(dir, "identity-graphs");
  const hub = new ModelHub({ threads: options.threads, cacheDir });
  const plain = await hub.with({ onProgress: (s) => log(`plain graph: ${s}`) })
    .openEngine(modelDir);
  const withAdapter = await hub.with({ onProgress: (s) => log(`identity graph: ${s}`) })
    .openEngine(modelDir, { adapters: [adapter] });
  const prompt = "Tell me about your plans for the weekend and the people you will meet there.";
  const promptTokens = plain.tokenizer.encode(prompt).length;
  const variants = [
    { name: "plain", engine: plain, identities: undefined },
    { name: "identities0", engine: withAdapter, identities: [] as string[] },
    { name: "identities1", engine: withAdapter, identities: ["EXT_high"] },
    { name: "identities3", engine: withAdapter, identities: ["EXT_high", "AGR_low", "Doctor"] },
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
          await v.engine.generate(prompt, {
            maxNewTokens: n,
            temperature: 0,
            eosTokenIds: [],
            ...(v.identities ? { extensions: { identities: [...v.identities] } } : {}),
          });
          const t = (performance.now() - t0) / 1000;
          if (i > 0) times[v.name][n === 1 ? "t1" : "tN"].push(t);
        }
      }
    }
  } finally {
    await plain.close();
    await withAdapter.close();
    await removeDerived([cacheDir], options.keepCache, log);
  }
  const timing = (t: { t1: number[]; tN: number[] }) => decodeTiming(t, N);
  const pl = timing(times.plain);
  const i0 = timing(times.identities0);
  const i1 = timing(times.identities1);
  const i3 = timing(times.identities3);
  const over = (a: IdentityVariantTiming) =>
    100 * (1 - a.decodeTokensPerSecond / pl.decodeTokensPerSecond);
  const overheadPercent = { identities0: over(i0), identities1: over(i1), identities3: over(i3) };
  return {
    shape,
    numLayers: config.numLayers,
    hiddenSize: config.hiddenSize,
    promptTokens,
    newTokens: N,
    runs,
    threads: options.threads ?? null,
    r,
    adapterParameters: adapter.parameters().reduce((a, p) => a + p.data.length, 0),
    loadAverage: { start: startLoad, end: Deno.loadavg()[0] },
    plain: pl,
    identities0: i0,
    identities1: i1,
    identities3: i3,
    overheadPercent,
    withinGoal: overheadPercent.identities1 <= 15,
  };
}

/**
 * Human-readable report of an {@link IdentityBenchResult}.
 *
 * @example
 * ```ts ignore
 * import { benchIdentities, formatIdentityBench } from "./identities.ts";
 * console.log(formatIdentityBench(await benchIdentities({ shape: "small" })));
 * ```
 */
export function formatIdentityBench(r: IdentityBenchResult): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const row = (name: string, t: IdentityVariantTiming, over?: number) =>
    `  ${name.padEnd(30)} ${f(t.decodeTokensPerSecond).padStart(10)}   ${
      f(t.bestDecodeTokensPerSecond).padStart(10)
    }${over === undefined ? "" : `   ${f(over).padStart(6)}%`}`;
  return [
    `identity-expert benchmark: ${r.shape}-shaped fp32 model (${r.numLayers} layers, hidden ${r.hiddenSize}), ` +
    `hirpf r=${r.r} alternate q/k/v/o (${
      (r.adapterParameters / 1e6).toFixed(1)
    }M adapter floats), ` +
    `prompt ${r.promptTokens}, ${r.newTokens} new tokens, median of ${r.runs} ` +
    `(load average ${f(r.loadAverage.start, 2)} → ${f(r.loadAverage.end, 2)})`,
    `  variant                        decode tok/s  (fastest)   overhead`,
    row("plain model (no adapter)", r.plain),
    row("hirpf, 0 identities", r.identities0, r.overheadPercent.identities0),
    row("hirpf, 1 identity", r.identities1, r.overheadPercent.identities1),
    row("hirpf, 3 identities", r.identities3, r.overheadPercent.identities3),
    `  goal ≤ 15% with one identity: ${r.withinGoal ? "met" : "not met"}`,
  ].join("\n");
}
