/**
 * `dramatis bench <suite> [--json]`: runs a benchmark suite of `benchmark/` and prints its
 * figures, measured side by side with its peer in one run (DESIGN §9).
 *
 * @module
 */

import { UsageError } from "../../errors.ts";
import type { HostVerb } from "../verb.ts";
import { printJson } from "../verb.ts";

/** A benchmark suite the verb can run. */
export interface BenchSuite {
  description: string;
  /** Runs the suite; `log` takes progress lines (stderr). */
  run(flags: Record<string, unknown>, log: (line: string) => void): Promise<unknown>;
  /** Human summary of the result. */
  format(result: unknown): string;
}

const num = (v: unknown) => (v === undefined ? undefined : Number(v));

// Set by each suite's run() once its module is loaded.
const formatters: Record<string, (r: unknown) => string> = {};

/**
 * The suites, by name. Modules are imported on demand (they pull in heavy dependencies).
 *
 * @example
 * ```ts
 * import { BENCH_SUITES } from "./bench.ts";
 * const r = await BENCH_SUITES.train.run({ shape: "small", steps: 2 }, console.error);
 * console.log(BENCH_SUITES.train.format(r));
 * ```
 */
export const BENCH_SUITES: Record<string, BenchSuite> = {
  decode: {
    description: "prefill/decode tokens/s vs transformers.js on the same ONNX file; bytes/token " +
      "vs measured memory bandwidth",
    async run(flags, log) {
      const { benchDecode, formatDecodeBench } = await import("../../../benchmark/decode.ts");
      formatters.decode = formatDecodeBench as (r: unknown) => string;
      return await benchDecode({
        shape: flags.shape as never,
        threads: num(flags.threads),
        runs: num(flags.runs),
        log,
      });
    },
    format(result) {
      return formatWith("decode", result);
    },
  },
  train: {
    description: "LoRA (r=16, q/k/v/o) training tokens/s and GFLOP/s vs measured fp32 MatMul " +
      "throughput (MFU)",
    async run(flags, log) {
      const { benchTrain, formatTrainBench } = await import("../../../benchmark/train.ts");
      formatters.train = formatTrainBench as (r: unknown) => string;
      return await benchTrain({
        shape: flags.shape as never,
        threads: num(flags.threads),
        steps: num(flags.steps),
        seq: num(flags.seq),
        batch: num(flags.batch),
        log,
      });
    },
    format(result) {
      return formatWith("train", result);
    },
  },
};

function formatWith(suite: string, result: unknown): string {
  return formatters[suite]?.(result) ?? JSON.stringify(result, null, 2);
}

/**
 * The `bench` verb.
 *
 * @example
 * ```ts
 * import { benchVerb, BENCH_SUITES } from "./bench.ts";
 * console.log(benchVerb.name, Object.keys(BENCH_SUITES)); // bench ["decode", "train"]
 * ```
 */
export const benchVerb: HostVerb = {
  name: "bench",
  description: "Run a benchmark suite and print ratios against its peer, measured in one run. " +
    "Suites: decode, train.",
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
    const result = await BENCH_SUITES[suite].run(args.flags, (l) => ctx.log(l));
    if (ctx.json) printJson({ suite, ...(result as Record<string, unknown>) });
    else console.log(BENCH_SUITES[suite].format(result));
    return 0;
  },
};
