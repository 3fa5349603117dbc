/**
 * Peak RSS against weight bytes over model sizes: loads seeded models of two or more shapes in
 * one weight format (Qwen2.5-0.5B, -1.5B and -3B by default; weights generated tensor by tensor,
 * so no checkpoint is written), each first load (generate, quantize, write the cache, open, decode) and
 * cached load in its own process, and fits `peak = a · W + b` by least squares, W being the bytes
 * of the weights file. `a` is what each weight byte costs in memory, `b` the fixed overhead (Deno,
 * onnxruntime, the tokenizer, activations of a short prompt). Part of `bench quant`.
 *
 * @module
 */

import { childMain, procStatus, runChild } from "./child.ts";
import { join } from "node:path";
import { readDecoderConfig } from "../core/model/config.ts";
import { createTinyModel, seededWeightSource, type TinyModelOptions } from "../core/model/tiny.ts";
import { expectedWeightShapes } from "../core/model/weights.ts";
import { ModelHub } from "../core/services/model_hub.ts";
import { pathExists } from "../core/util/fs.ts";
import { Prng } from "../core/util/prng.ts";
import { SHAPES } from "./decode.ts";
import { weightsFileBytes } from "./bench_cache.ts";

/** The shapes the fit loads: real Qwen2.5 sizes (tied embeddings, 151936 tokens). */
export const FIT_SHAPES: Record<string, TinyModelOptions> = {
  "qwen2.5-0.5b": SHAPES["qwen2.5-0.5b"],
  "qwen2.5-1.5b": {
    preset: "tiny-qwen2",
    hiddenSize: 1536,
    intermediateSize: 8960,
    numLayers: 28,
    numHeads: 12,
    numKvHeads: 2,
    headDim: 128,
    vocabSize: 151936,
    maxPositionEmbeddings: 4096,
    tieWordEmbeddings: true,
  },
  "qwen2.5-3b": {
    preset: "tiny-qwen2",
    hiddenSize: 2048,
    intermediateSize: 11008,
    numLayers: 36,
    numHeads: 16,
    numKvHeads: 2,
    headDim: 128,
    vocabSize: 151936,
    maxPositionEmbeddings: 4096,
    tieWordEmbeddings: true,
  },
};

/** One shape's figures. */
export interface RssFitPoint {
  shape: string;
  parameters: number;
  /** Bytes of the shared weights file in the fitted format. */
  weight_bytes: number;
  first_load_peak_rss_bytes: number;
  cached_load_peak_rss_bytes: number;
}

/** `peak ≈ per_weight_byte · W + fixed_bytes`. */
export interface LinearFit {
  per_weight_byte: number;
  fixed_bytes: number;
  /** Largest distance of a point from the line, bytes. */
  max_residual_bytes: number;
}

/** Result of {@link rssFit}. */
export interface RssFit {
  dtype: string;
  points: RssFitPoint[];
  first_load: LinearFit;
  cached_load: LinearFit;
}

/** Least squares line through the points (x, y). */
export function fitLine(points: readonly [number, number][]): LinearFit {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  const a = sxx > 0 ? sxy / sxx : NaN;
  const b = my - a * mx;
  const max = Math.max(...points.map(([x, y]) => Math.abs(y - (a * x + b))));
  return { per_weight_byte: a, fixed_bytes: b, max_residual_bytes: max };
}

interface Child {
  modelDir: string;
  cacheDir: string;
  dtype: string;
  threads: number;
}

/** In the child: load (exporting when the cache is empty), decode 8 tokens, report `VmHWM`. */
async function child(t: Child): Promise<{ peakRss: number }> {
  const engine = await new ModelHub({ cacheDir: t.cacheDir, dtype: t.dtype, threads: t.threads })
    .openEngine(t.modelDir, { weightSource: seededWeightSource(3), prefixCacheBytes: 0 });
  try {
    const r = new Prng(1);
    const vocab = Math.min(engine.config.vocabSize - 10, 1000);
    const prompt = Array.from({ length: 16 }, () => 10 + r.int(vocab));
    await engine.generate({ inputIds: [prompt] }, {
      maxNewTokens: 8,
      temperature: 0,
      eosTokenIds: [],
    });
    return { peakRss: procStatus("VmHWM") };
  } finally {
    await engine.close();
  }
}

/**
 * Measures first-load and cached-load peak RSS of seeded models of each shape in `dtype` and
 * fits both against the weight bytes. The graphs are deleted after each shape unless
 * `keepCache` (the model folders hold config and tokenizer only).
 *
 * @example
 * ```ts ignore
 * import { rssFit } from "./quant_rss_fit.ts";
 * const fit = await rssFit({ dir: ".cache/bench/rss-fit", dtype: "int4", threads: 1 });
 * console.log(fit.cached_load.per_weight_byte, fit.cached_load.fixed_bytes);
 * ```
 */
export async function rssFit(options: {
  dir: string;
  dtype: string;
  threads: number;
  /** Shapes by name (default {@link FIT_SHAPES}). */
  shapes?: Record<string, TinyModelOptions>;
  keepCache?: boolean;
  log?: (line: string) => void;
}): Promise<RssFit> {
  const log = options.log ?? ((l: string) => console.error(l));
  const points: RssFitPoint[] = [];
  for (const [shape, spec] of Object.entries(options.shapes ?? FIT_SHAPES)) {
    const modelDir = join(options.dir, shape, "model");
    if (!(await pathExists(join(modelDir, "config.json")))) {
      log(`rss fit: writing the ${shape} model folder (config and tokenizer only)`);
      await createTinyModel(modelDir, { ...spec, seed: 0, writeWeights: false });
    }
    const config = await readDecoderConfig(modelDir);
    const parameters = [...expectedWeightShapes(config).values()]
      .reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
    const cacheDir = join(options.dir, shape, `graphs-${options.dtype}`);
    await Deno.remove(cacheDir, { recursive: true }).catch(() => {});
    try {
      const t = { modelDir, cacheDir, dtype: options.dtype, threads: options.threads };
      log(`rss fit: ${shape} ${options.dtype} first load`);
      const first = await runChild<{ peakRss: number }>(
        new URL(import.meta.url),
        t,
        "rss-fit child",
      );
      log(`rss fit: ${shape} ${options.dtype} cached load`);
      const cached = await runChild<{ peakRss: number }>(
        new URL(import.meta.url),
        t,
        "rss-fit child",
      );
      const weightBytes = await weightsFileBytes(cacheDir);
      points.push({
        shape,
        parameters,
        weight_bytes: weightBytes,
        first_load_peak_rss_bytes: first.peakRss,
        cached_load_peak_rss_bytes: cached.peakRss,
      });
    } finally {
      if (!options.keepCache) await Deno.remove(cacheDir, { recursive: true }).catch(() => {});
    }
  }
  return {
    dtype: options.dtype,
    points,
    first_load: fitLine(points.map((p) => [p.weight_bytes, p.first_load_peak_rss_bytes])),
    cached_load: fitLine(points.map((p) => [p.weight_bytes, p.cached_load_peak_rss_bytes])),
  };
}

/** Text lines of an {@link RssFit}. */
export function formatRssFit(f: RssFit): string {
  const gib = (x: number) => `${(x / 2 ** 30).toFixed(3)} GiB`;
  const lines = f.points.map((p) =>
    `rss fit ${f.dtype} ${p.shape} (${(p.parameters / 1e9).toFixed(2)}B params): weights ` +
    `${gib(p.weight_bytes)}, first-load peak ${gib(p.first_load_peak_rss_bytes)}, cached-load ` +
    `peak ${gib(p.cached_load_peak_rss_bytes)}`
  );
  for (const [name, l] of [["first load", f.first_load], ["cached load", f.cached_load]] as const) {
    lines.push(
      `rss fit ${f.dtype} ${name}: peak ≈ ${l.per_weight_byte.toFixed(3)} × weights + ` +
        `${gib(l.fixed_bytes)} (largest residual ${gib(l.max_residual_bytes)})`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) await childMain(child);
