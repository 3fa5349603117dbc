/**
 * `bench quant`: weight formats at the Qwen2.5-0.5B shape (seeded BF16 safetensors, like the
 * released checkpoint). For each of f32 / int8 / int4 it measures, each in its own process:
 * the peak RSS (`VmHWM`) of a first load (stream the safetensors, quantize, write the cache,
 * open the session, one decode step) and of a cached load, the bytes of the shared weights
 * file, and prefill / decode tokens per second; plus a process that loads nothing (the fixed
 * overhead of Deno and onnxruntime).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { Engine } from "../core/model/engine.ts";
import { createTinyModel } from "../core/model/tiny.ts";
import { Prng } from "../core/util/prng.ts";
import { SHAPES } from "./decode.ts";

/** The weight formats the suite compares. */
export const QUANT_DTYPES = ["f32", "int8", "int4"] as const;

/** One dtype's figures. */
export interface QuantPoint {
  dtype: string;
  weightBytes: number;
  firstLoadPeakRss: number;
  cachedLoadPeakRss: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  error?: string;
}

/** Result of {@link benchQuant}. */
export interface QuantBenchResult {
  shape: string;
  baselineRss: number;
  points: QuantPoint[];
  ratios: Record<string, number>;
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
  log?: (line: string) => void;
}

function procStatus(field: string): number {
  const m = Deno.readTextFileSync("/proc/self/status").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

interface Child {
  kind: "baseline" | "load";
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
    // The same modules and an onnxruntime session of a trivial graph, no weights.
    return { peakRss: procStatus("VmHWM") };
  }
  const engine = await Engine.load(t.modelDir, {
    cacheDir: t.cacheDir,
    dtype: t.dtype,
    threads: t.threads,
    prefixCacheBytes: 0,
  });
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
    return {
      peakRss: procStatus("VmHWM"),
      prefillTokensPerSecond: out.stats.prefillTokensPerSecond,
      decodeTokensPerSecond: out.stats.decodeTokensPerSecond,
    };
  } finally {
    await engine.close();
  }
}

async function runChild(t: Child): Promise<Record<string, number>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--child", JSON.stringify(t)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (out.code !== 0) {
    throw new Error(
      `child failed (${out.code}): ${new TextDecoder().decode(out.stderr).slice(-800)}`,
    );
  }
  return JSON.parse(text);
}

async function weightsFileBytes(cacheDir: string): Promise<number> {
  const dir = join(cacheDir, "weights");
  let total = 0;
  for await (const e of Deno.readDir(dir)) {
    total += (await Deno.stat(join(dir, e.name, "weights.bin"))).size;
  }
  return total;
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
  if (!(await exists(join(dir, "done")))) {
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
  const start = Deno.loadavg()[0];
  const baseline = await runChild({ ...base, kind: "baseline", cacheDir: "", dtype: "f32" });
  const points: QuantPoint[] = [];
  for (const dtype of options.dtypes ?? QUANT_DTYPES) {
    const cacheDir = join(dir, `graphs-${dtype}`);
    await Deno.remove(cacheDir, { recursive: true }).catch(() => {});
    try {
      log(`${dtype}: first load`);
      const first = await runChild({ ...base, kind: "load", cacheDir, dtype });
      log(`${dtype}: cached load`);
      const cached = await runChild({ ...base, kind: "load", cacheDir, dtype });
      points.push({
        dtype,
        weightBytes: await weightsFileBytes(cacheDir),
        firstLoadPeakRss: first.peakRss,
        cachedLoadPeakRss: cached.peakRss,
        prefillTokensPerSecond: cached.prefillTokensPerSecond,
        decodeTokensPerSecond: cached.decodeTokensPerSecond,
      });
    } catch (e) {
      points.push({
        dtype,
        weightBytes: NaN,
        firstLoadPeakRss: NaN,
        cachedLoadPeakRss: NaN,
        prefillTokensPerSecond: NaN,
        decodeTokensPerSecond: NaN,
        error: (e as Error).message,
      });
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
    }
  }
  return {
    shape,
    baselineRss: baseline.peakRss,
    points,
    ratios,
    loadavg: { start, end: Deno.loadavg()[0] },
  };
}

/** Human-readable table of {@link benchQuant}'s result. */
export function formatQuantBench(r: QuantBenchResult): string {
  const mib = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB`;
  const lines = [
    `bench quant (${r.shape}); fixed overhead (no model) ${mib(r.baselineRss)}; ` +
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
  for (const [k, v] of Object.entries(r.ratios)) lines.push(`ratios.${k} = ${v.toFixed(3)}`);
  return lines.join("\n");
}

if (import.meta.main && Deno.args[0] === "--child") {
  console.log(JSON.stringify(await child(JSON.parse(Deno.args[1]))));
}
