/**
 * `dramatis bench <suite> [--json]`: runs a benchmark suite of `benchmark/` and prints its
 * figures, measured side by side with its peer in one run (DESIGN §9).
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import type { HostVerb } from "../core/host/verb.ts";
import { printJson } from "../core/host/verb.ts";
import { cacheReport, formatCacheReport } from "./bench_cache.ts";

/** A benchmark suite the verb can run. */
export interface BenchSuite {
  description: string;
  /** Loads the suite's module (lazily: each pulls in large dependencies) and returns its parts. */
  load(): Promise<{
    run(flags: Record<string, unknown>, log: (line: string) => void): Promise<unknown>;
    format(result: unknown): string;
  }>;
}

const num = (v: unknown) => (v === undefined ? undefined : Number(v));
// deno-lint-ignore no-explicit-any
const fmt = (f: (r: any) => string) => f as (r: unknown) => string;

/** The suites, by name. */
export const BENCH_SUITES: Record<string, BenchSuite> = {
  decode: {
    description: "prefill/decode tokens/s vs transformers.js on the same ONNX file; bytes/token " +
      "vs measured memory bandwidth",
    async load() {
      const m = await import("./decode.ts");
      return {
        run: (flags, log) =>
          m.benchDecode({
            keepCache: flags["keep-cache"] === true,
            shape: flags.shape as never,
            threads: num(flags.threads),
            runs: num(flags.runs),
            log,
          }),
        format: fmt(m.formatDecodeBench),
      };
    },
  },
  quant: {
    description: "weight formats f32/int8/int4 at the 0.5B shape: first-load and cached-load " +
      "peak RSS, weight bytes, prefill/decode tokens/s",
    async load() {
      const m = await import("./quant.ts");
      const list = (v: unknown) =>
        v === undefined ? undefined : String(v).split(",").map((x) => x.trim()).filter(Boolean);
      return {
        run: (flags, log) =>
          m.benchQuant({
            shape: flags.shape as never,
            threads: num(flags.threads),
            dtypes: list(flags.dtypes),
            rounds: num(flags.rounds),
            qwen7b: flags.qwen7b !== false,
            gptq: flags.gptq !== false,
            rssFit: flags["rss-fit"] !== false,
            keepCache: flags["keep-cache"] === true,
            log,
          }),
        format: fmt(m.formatQuantBench),
      };
    },
  },
  long: {
    description: "prefill/decode tokens/s and prefill peak RSS at long contexts vs llama.cpp " +
      "(same weights and bits through the GGUF export) and transformers.js (f32); multi-turn " +
      "scene with vs without prefix reuse",
    async load() {
      const m = await import("./long.ts");
      const list = (v: unknown) =>
        v === undefined ? undefined : String(v).split(",").map((x) => x.trim()).filter(Boolean);
      return {
        run: (flags, log) =>
          m.benchLong({
            keepCache: flags["keep-cache"] === true,
            shape: flags.shape as never,
            threads: num(flags.threads),
            contexts: list(flags.contexts)?.map(Number),
            engines: list(flags.engines) as never,
            turns: num(flags.turns),
            systemTokens: num(flags["system-tokens"]),
            newTokens: num(flags["new-tokens"]),
            rounds: num(flags.rounds),
            pairedBursts: num(flags["paired-bursts"]),
            dtype: flags.dtype as string | undefined,
            log,
          }),
        format: fmt(m.formatLongBench),
      };
    },
  },
  train: {
    description: "LoRA (r=16, q/k/v/o) training tokens/s and GFLOP/s vs measured fp32 MatMul " +
      "throughput (MFU)",
    async load() {
      const m = await import("./train.ts");
      return {
        run: (flags, log) =>
          m.benchTrain({
            shape: flags.shape as never,
            threads: num(flags.threads),
            steps: num(flags.steps),
            seq: num(flags.seq),
            batch: num(flags.batch),
            dtype: flags.dtype as string | undefined,
            workDir: flags["work-dir"] as string | undefined,
            log,
          }),
        format: fmt(m.formatTrainBench),
      };
    },
  },
  steer: {
    description: "steered (one vector) vs unsteered decode tokens/s on the same graph, and vs " +
      "the plain graph without steering inputs",
    async load() {
      const m = await import("./steer.ts");
      return {
        run: (flags, log) =>
          m.benchSteer({
            keepCache: flags["keep-cache"] === true,
            shape: flags.shape as never,
            threads: num(flags.threads),
            runs: num(flags.runs),
            log,
          }),
        format: fmt(m.formatSteerBench),
      };
    },
  },
  identities: {
    description: "decode tokens/s with 0, 1 and 3 active hirpf identities vs the plain model",
    async load() {
      const m = await import("./identities.ts");
      return {
        run: (flags, log) =>
          m.benchIdentities({
            keepCache: flags["keep-cache"] === true,
            shape: flags.shape as never,
            threads: num(flags.threads),
            runs: num(flags.runs),
            log,
          }),
        format: fmt(m.formatIdentityBench),
      };
    },
  },
  serve: {
    description: "server requests/s and p50/p95 latency at concurrency 1, 4, 16 vs direct " +
      "engine calls (the server's overhead as a ratio)",
    async load() {
      const m = await import("./serve.ts");
      return {
        run: (flags, log) =>
          m.benchServe({
            keepCache: flags["keep-cache"] === true,
            requests: num(flags.requests),
            rounds: num(flags.rounds),
            threads: num(flags.threads),
            log,
          }),
        format: fmt(m.formatServeBench),
      };
    },
  },
};

/**
 * The `bench` verb.
 *
 * @example
 * ```ts
 * import { benchVerb, BENCH_SUITES } from "./bench_verb.ts";
 * console.log(benchVerb.name, Object.keys(BENCH_SUITES)); // bench ["decode", "train"]
 * ```
 */
export const benchVerb: HostVerb = {
  name: "bench",
  description: "Run a benchmark suite and print ratios against its peer, measured in one run. " +
    "Suites: decode, long, quant, train, steer, identities, serve.",
  positionals: ["<suite>"],
  flags: {
    shape: {
      type: "string",
      description: "model shape: qwen2.5-0.5b (default) or small",
      choices: ["qwen2.5-0.5b", "small"],
    },
    threads: { type: "number", description: "onnxruntime intra-op threads (default: all cores)" },
    runs: { type: "number", description: "decode: timed runs" },
    steps: { type: "number", description: "train: timed optimizer steps" },
    seq: { type: "number", description: "train: tokens per row" },
    batch: { type: "number", description: "train: rows per step" },
    "work-dir": {
      type: "string",
      description:
        "train: folder holding (or receiving) the seeded model/ (default .cache/bench/decode-<shape>)",
    },
    requests: { type: "number", description: "serve: requests per concurrency level and path" },
    rounds: {
      type: "number",
      description: "serve, long, quant: rounds (alternating order; long and quant report the " +
        "medians)",
    },
    contexts: { type: "string", description: "long: prompt lengths, e.g. 64,128,512,2048,4096" },
    engines: {
      type: "string",
      description:
        "long: dramatis,llamacpp,llamacpp_f32kv,transformersjs (llamacpp_f32kv: llama.cpp with a float32 KV cache, as Dramatis keeps)",
    },
    turns: { type: "number", description: "long: simulation turns (0 = none; default 20)" },
    "system-tokens": { type: "number", description: "long: simulation system prompt tokens" },
    "new-tokens": { type: "number", description: "long: tokens generated per prompt" },
    "paired-bursts": {
      type: "number",
      description: "long: also decode in turns, in one process, this many bursts of " +
        "--new-tokens a side: Dramatis against each llama.cpp engine at each context, and each " +
        "engine at each other context against itself at the first (ratios *_paired)",
    },
    dtypes: { type: "string", description: "quant: weight formats, e.g. f32,int8,int4" },
    "keep-cache": {
      type: "boolean",
      description: "keep what the suite derived under .cache/bench (graphs, transformers.js " +
        "exports, GGUF files, probes) after the run; by default only the seeded models stay",
    },
    qwen7b: {
      type: "boolean",
      default: true,
      description: "quant: also load the Qwen2.5-7B-shaped int4 model (--no-qwen7b skips it)",
    },
    gptq: {
      type: "boolean",
      default: true,
      description: "quant: also load a Llama-2-7B-shaped GPTQ 4-bit checkpoint on its own " +
        "levels (--no-gptq skips it)",
    },
    "rss-fit": {
      type: "boolean",
      default: true,
      description: "quant: fit peak RSS against weight bytes over the 0.5B, 1.5B and 3B shapes " +
        "(--no-rss-fit skips it)",
    },
  },
  async run(args, ctx) {
    const [suite, extra] = args.positionals;
    const names = Object.keys(BENCH_SUITES);
    if (!suite || extra !== undefined || !(suite in BENCH_SUITES)) {
      throw new UsageError(
        `bench needs one suite, got ${
          args.positionals.length ? args.positionals.join(" ") : "none"
        }; suites: ${names.map((n) => `${n} (${BENCH_SUITES[n].description})`).join("; ")}`,
      );
    }
    const { run, format } = await BENCH_SUITES[suite].load();
    const result = await run(args.flags, (l) => ctx.log(l));
    // What the benchmark cache holds now, against the distinct base weights in it.
    const cache = await cacheReport(".cache");
    if (ctx.json) printJson({ suite, ...(result as Record<string, unknown>), cache });
    else console.log(`${format(result)}\n${formatCacheReport(cache)}`);
    return 0;
  },
};
