/**
 * `bench quant`'s pre-quantized point: a Llama-2-7B-shaped GPTQ checkpoint (4 bits, groups of
 * 128, the layout AutoGPTQ writes: `qweight` / `qzeros` / `scales` / `g_idx`, one safetensors
 * shard per layer and an index) with seeded levels written directly, loaded by the engine at
 * its default dtype, which runs each layer on its own levels and zeros (`MatMulNBits` with
 * zero points). A first load (fresh cache) and a cached load run in separate processes and
 * report peak RSS against the weights file, load time and decode speed.
 *
 * @module
 */

import { join } from "node:path";
import { childMain, procStatus, runChild } from "./child.ts";
import { weightsFileBytes } from "./bench_cache.ts";
import { createTinyModel, tinyConfigJson, type TinyModelOptions } from "../core/model/tiny.ts";
import { parseDecoderConfig } from "../core/model/config.ts";
import { expectedWeightShapes } from "../core/model/weights.ts";
import { f32ToF16, type RawTensor, writeSafetensors } from "../core/model/safetensors.ts";
import { ModelHub } from "../core/services/model_hub.ts";
import { Prng } from "../core/util/prng.ts";

/** Llama-2-7B's shape (the HIS paper's base model). */
export const LLAMA7B_SHAPE: TinyModelOptions = {
  preset: "tiny-llama",
  hiddenSize: 4096,
  intermediateSize: 11008,
  numLayers: 32,
  numHeads: 32,
  numKvHeads: 32,
  headDim: 128,
  vocabSize: 32000,
  maxPositionEmbeddings: 4096,
  tieWordEmbeddings: false,
};

/** The pre-quantized point of `bench quant`. */
export interface GptqPoint {
  /** Parameters of the checkpoint's shape. */
  parameters: number;
  /** Bytes of the checkpoint's safetensors. */
  checkpoint_bytes: number;
  /** Bytes of the engine's weights file. */
  weight_bytes: number;
  /** Peak RSS of the first load (the export, then the session) and a 32-token decode. */
  first_load_peak_rss_bytes: number;
  first_load_seconds: number;
  /** Peak RSS of a cached load and a 32-token decode, in a fresh process. */
  peak_rss_bytes: number;
  load_seconds: number;
  decode_tokens_per_second: number;
  new_tokens: number;
  error?: string;
}

/** Seeded words, the same for a given seed. */
function words(n: number, r: Prng): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r.int(0x10000) << 16) | r.int(0x10000);
  return a;
}

/** Seeded float16 values in `[-scale, scale)`. */
function halves(n: number, scale: number, r: Prng): Uint16Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * r.next() - 1) * scale;
  return f32ToF16(a);
}

/**
 * Writes a GPTQ 4-bit checkpoint of `shape` (groups of `groupSize`, symmetric zeros 8 stored as 7
 * in GPTQ's original format, scales 0.002, seeded levels) into `dir`: config.json with its
 * `quantization_config`, the tiny preset's tokenizer, one shard per layer and an index.
 *
 * @example
 * ```ts ignore
 * import { LLAMA7B_SHAPE, writeSeededGptq } from "./quant_gptq7b.ts";
 * await writeSeededGptq(".cache/bench/gptq", LLAMA7B_SHAPE);
 * ```
 */
export async function writeSeededGptq(
  dir: string,
  shape: TinyModelOptions,
  groupSize = 128,
): Promise<void> {
  await createTinyModel(dir, { ...shape, seed: 0, writeWeights: false });
  const configPath = join(dir, "config.json");
  const raw = JSON.parse(await Deno.readTextFile(configPath));
  const r = new Prng(7);
  // Every tensor the decoder reads: the linear layers packed, the rest float16 (norms 1, tables
  // seeded). One shard per layer (the embedding and lm_head in their own), as published
  // checkpoints shard.
  const shards = new Map<string, Record<string, RawTensor>>();
  for (const [name, [rows, cols]] of expectedWeightShapes(parseDecoderConfig(raw, configPath))) {
    const file = `model-${/^model\.layers\.(\d+)\./.exec(name)?.[1]?.padStart(3, "0") ?? "top"}` +
      ".safetensors";
    const tensors = shards.get(file) ?? {};
    shards.set(file, tensors);
    if (/_proj\.weight$/.test(name)) {
      Object.assign(tensors, packedLinear(name.replace(/\.weight$/, ""), rows, cols, groupSize, r));
    } else {
      const n = rows * (cols ?? 1);
      tensors[name] = {
        dtype: "F16",
        shape: cols === undefined ? [rows] : [rows, cols],
        data: cols === undefined ? f32ToF16(new Float32Array(n).fill(1)) : halves(n, 0.02, r),
      };
    }
  }
  const map: Record<string, string> = {};
  for (const [file, tensors] of shards) {
    await writeSafetensors(join(dir, file), tensors);
    for (const name of Object.keys(tensors)) map[name] = file;
  }
  await Deno.writeTextFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: {}, weight_map: map }),
  );
  // The config last: a folder with config.json is a finished checkpoint.
  raw.quantization_config = {
    quant_method: "gptq",
    bits: 4,
    group_size: groupSize,
    desc_act: false,
    sym: true,
  };
  await Deno.writeTextFile(configPath, JSON.stringify(raw, null, 2));
}

/**
 * One linear layer `[out, in]` as AutoGPTQ packs it at 4 bits: seeded levels, zeros 8 (stored as
 * 7, GPTQ's original format), scales 0.002, groups in input order.
 */
function packedLinear(
  base: string,
  out: number,
  inputs: number,
  groupSize: number,
  r: Prng,
): Record<string, RawTensor> {
  const groups = Math.ceil(inputs / groupSize);
  return {
    [`${base}.qweight`]: {
      dtype: "I32",
      shape: [inputs / 8, out],
      data: words(inputs / 8 * out, r),
    },
    [`${base}.qzeros`]: {
      dtype: "I32",
      shape: [groups, out / 8],
      data: new Int32Array(groups * out / 8).fill(0x77777777),
    },
    [`${base}.scales`]: {
      dtype: "F16",
      shape: [groups, out],
      data: f32ToF16(new Float32Array(groups * out).fill(0.002)),
    },
    [`${base}.g_idx`]: {
      dtype: "I32",
      shape: [inputs],
      data: Int32Array.from({ length: inputs }, (_, i) => Math.floor(i / groupSize)),
    },
  };
}

interface Task {
  modelDir: string;
  cacheDir: string;
  threads: number;
  newTokens: number;
}

/** In the child: load at the checkpoint's default dtype, warm up, decode `newTokens`. */
async function child(t: Task): Promise<Record<string, number>> {
  const t0 = performance.now();
  const engine = await new ModelHub({ cacheDir: t.cacheDir, threads: t.threads })
    .openEngine(t.modelDir, { prefixCacheBytes: 0 });
  const loadSeconds = (performance.now() - t0) / 1000;
  try {
    const r = new Prng(1);
    const prompt = Array.from({ length: 16 }, () => 10 + r.int(1000));
    await engine.generate({ inputIds: [prompt.slice(0, 4)] }, { maxNewTokens: 2, eosTokenIds: [] });
    const out = await engine.generate({ inputIds: [prompt] }, {
      maxNewTokens: t.newTokens,
      temperature: 0,
      eosTokenIds: [],
    });
    return {
      peakRss: procStatus("VmHWM"),
      loadSeconds,
      decodeTokensPerSecond: out.stats.decodeTokensPerSecond,
      newTokens: out.completions[0].tokens.length,
    };
  } finally {
    await engine.close();
  }
}

/** Bytes of a folder's safetensors files. */
async function safetensorsBytes(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".safetensors")) n += (await Deno.stat(join(dir, e.name))).size;
  }
  return n;
}

/**
 * The pre-quantized point: writes the checkpoint into `root/model` once, then a first load into
 * a fresh `root/graphs` and a cached load, each in its own process; the graphs are removed after
 * unless `keepCache`.
 */
export async function benchGptq(
  root: string,
  options: { threads: number; shape?: TinyModelOptions; keepCache?: boolean; newTokens?: number },
  log: (line: string) => void,
): Promise<GptqPoint> {
  const shape = options.shape ?? LLAMA7B_SHAPE;
  const modelDir = join(root, "model");
  const cacheDir = join(root, "graphs");
  const parameters = [
    ...expectedWeightShapes(parseDecoderConfig(tinyConfigJson(shape), "config.json")).values(),
  ].reduce((a, dims) => a + dims.reduce((x, y) => x * y, 1), 0);
  const task: Task = {
    modelDir,
    cacheDir,
    threads: options.threads,
    newTokens: options.newTokens ?? 32,
  };
  const failed = (e: unknown): GptqPoint => ({
    parameters,
    checkpoint_bytes: NaN,
    weight_bytes: NaN,
    first_load_peak_rss_bytes: NaN,
    first_load_seconds: NaN,
    peak_rss_bytes: NaN,
    load_seconds: NaN,
    decode_tokens_per_second: NaN,
    new_tokens: 0,
    error: (e as Error).message,
  });
  try {
    if (!(await Deno.stat(join(modelDir, "config.json")).then(() => true, () => false))) {
      log(`gptq: writing the seeded GPTQ 4-bit checkpoint in ${modelDir} (once)`);
      await Deno.remove(modelDir, { recursive: true }).catch(() => {});
      await writeSeededGptq(modelDir, shape);
    }
    await Deno.remove(cacheDir, { recursive: true }).catch(() => {});
    // The checkpoint's own default dtype is what is measured, whatever DRAMATIS_DTYPE says here.
    const run = (what: string) =>
      runChild<Record<string, number>>(new URL(import.meta.url), task, what, {
        DRAMATIS_DTYPE: "",
      });
    log("gptq: first load (its own levels, int4) and 32 tokens");
    const first = await run("gptq first load");
    log("gptq: cached load and 32 tokens");
    const cached = await run("gptq cached load");
    const weightBytes = await weightsFileBytes(cacheDir);
    return {
      parameters,
      checkpoint_bytes: await safetensorsBytes(modelDir),
      weight_bytes: weightBytes,
      first_load_peak_rss_bytes: first.peakRss,
      first_load_seconds: first.loadSeconds,
      peak_rss_bytes: cached.peakRss,
      load_seconds: cached.loadSeconds,
      decode_tokens_per_second: cached.decodeTokensPerSecond,
      new_tokens: cached.newTokens,
    };
  } catch (e) {
    return failed(e);
  } finally {
    // The export (3.6 GB at 7B) goes, measured or failed, unless asked to keep it.
    if (!options.keepCache) await Deno.remove(cacheDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await childMain(child);
