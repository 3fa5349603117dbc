/**
 * The benchmarks' disk cache (`.cache/bench/`): the seeded models the suites share, the removal
 * of what a suite derives from them (graphs, transformers.js exports, GGUF copies, bandwidth
 * probes) after its run, and a report of what `.cache/` holds against the distinct base weights
 * in it.
 *
 * Base weights are the weights a model is made of, stored once: a checkpoint's safetensors, or
 * the weights file of a model whose weights are generated into the graph cache (the 7B-shaped
 * int4 model, which has no checkpoint). Everything else that holds weights is derived: a graph's
 * weights file in another format, a transformers.js export, a GGUF file. Hard links are counted
 * once (the report sums distinct files, as `du` does).
 *
 * deno run -A benchmark/bench_cache.ts [root]   (default `.cache`)
 *
 * @module
 */

import { basename, dirname, join, relative } from "node:path";
import { createTinyModel, type TinyModelOptions } from "../core/model/tiny.ts";
import { writeJsonAtomic } from "../core/util/atomic.ts";
import { pathExists } from "../core/util/fs.ts";

/** Where the suites keep their models and derived files, relative to the working directory. */
export const BENCH_ROOT = join(".cache", "bench");

/** What a cached file is. */
export type CacheKind =
  | "checkpoint"
  | "generated-weights"
  | "derived-weights"
  | "graph"
  | "transformersjs-export"
  | "gguf"
  | "probe"
  | "other";

/** Kinds that are base weights (the denominator of {@link CacheReport.ratio}). */
export const BASE_KINDS: readonly CacheKind[] = ["checkpoint", "generated-weights"];

/** One folder's bytes of one kind. */
export interface CacheGroup {
  /** The folder, relative to the report's root. */
  dir: string;
  kind: CacheKind;
  bytes: number;
  files: number;
}

/** What {@link cacheReport} found. */
export interface CacheReport {
  root: string;
  /** Bytes of the distinct files under the root (hard links once). */
  totalBytes: number;
  /** Bytes of the distinct base weights (checkpoints and generated weights files). */
  baseWeightBytes: number;
  /** `totalBytes / baseWeightBytes` (NaN without base weights). */
  ratio: number;
  byKind: Record<CacheKind, number>;
  groups: CacheGroup[];
}

const RANK: CacheKind[] = [
  "checkpoint",
  "generated-weights",
  "derived-weights",
  "transformersjs-export",
  "gguf",
  "graph",
  "probe",
  "other",
];

/** What one path is, from its name and place (see the module doc). */
async function classify(path: string): Promise<CacheKind> {
  const name = basename(path);
  const dir = dirname(path);
  if (/\.safetensors$/.test(name)) return "checkpoint";
  if (/\.gguf$/.test(name)) return "gguf";
  if (/^gemv_.*\.onnx(_data)?$/.test(name)) return "probe";
  if (basename(dir) === "onnx" && (await pathExists(join(dirname(dir), "config.json")))) {
    return "transformersjs-export";
  }
  if (name === "weights.bin" && basename(dirname(dir)) === "weights") {
    // A shared weights file: base weights when its model has no checkpoint (generated).
    try {
      const about = JSON.parse(await Deno.readTextFile(join(dir, "source.json")));
      if (typeof about.source === "string") return "generated-weights";
    } catch {
      // older caches have no source.json: derived from a checkpoint
    }
    return "derived-weights";
  }
  if (
    /^(model\.onnx(_data)?|weights\.bin|done\.json|index\.json|source\.json)$/.test(name) &&
    (basename(dirname(dir)) === "weights" || (await pathExists(join(dir, "model.onnx"))) ||
      (await pathExists(join(dir, "index.json"))))
  ) {
    return "graph";
  }
  return "other";
}

/**
 * Lists what `root` holds, each distinct file once (a hard-linked weights file counts where it
 * is most basic: a checkpoint before a shared weights file before a graph's link to it).
 *
 * @example
 * ```ts
 * import { cacheReport } from "./bench_cache.ts";
 * const r = await cacheReport(".cache");
 * console.log(r.totalBytes, r.baseWeightBytes, r.ratio);
 * ```
 */
export async function cacheReport(root = ".cache"): Promise<CacheReport> {
  const byInode = new Map<string, { size: number; paths: string[] }>();
  const walk = async (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile) {
        const st = await Deno.stat(p);
        const key = `${st.dev}:${st.ino ?? p}`;
        const seen = byInode.get(key) ?? { size: st.size, paths: [] };
        seen.paths.push(p);
        byInode.set(key, seen);
      }
    }
  };
  await walk(root);
  const byKind = Object.fromEntries(RANK.map((k) => [k, 0])) as Record<CacheKind, number>;
  const groups = new Map<string, CacheGroup>();
  for (const { size, paths } of byInode.values()) {
    const kinds = await Promise.all(paths.map(classify));
    let best = 0;
    for (let i = 1; i < paths.length; i++) {
      if (RANK.indexOf(kinds[i]) < RANK.indexOf(kinds[best])) best = i;
    }
    const kind = kinds[best];
    byKind[kind] += size;
    const dir = relative(root, dirname(paths[best])) || ".";
    const g = groups.get(`${dir}\0${kind}`) ?? { dir, kind, bytes: 0, files: 0 };
    g.bytes += size;
    g.files++;
    groups.set(`${dir}\0${kind}`, g);
  }
  const totalBytes = Object.values(byKind).reduce((a, b) => a + b, 0);
  const baseWeightBytes = BASE_KINDS.reduce((a, k) => a + byKind[k], 0);
  return {
    root,
    totalBytes,
    baseWeightBytes,
    ratio: baseWeightBytes > 0 ? totalBytes / baseWeightBytes : NaN,
    byKind,
    groups: [...groups.values()].sort((a, b) => b.bytes - a.bytes),
  };
}

/** Text lines of a {@link CacheReport}: the totals, then folders of 1 MB or more. */
export function formatCacheReport(r: CacheReport): string {
  const gb = (x: number) => `${(x / 1e9).toFixed(2)} GB`;
  const lines = [
    `cache ${r.root}: ${gb(r.totalBytes)} for ${gb(r.baseWeightBytes)} of distinct base ` +
    `weights (${r.ratio.toFixed(3)}×)`,
  ];
  for (const g of r.groups) {
    if (g.bytes >= 1e6) lines.push(`  ${gb(g.bytes).padStart(9)}  ${g.kind.padEnd(21)} ${g.dir}`);
  }
  return lines.join("\n");
}

/**
 * Removes what a suite derived during its run (graph caches, exports, GGUF copies, probes),
 * unless `keep`; the seeded models stay, so the next run rebuilds only the derived files.
 */
export async function removeDerived(
  paths: readonly string[],
  keep: boolean | undefined,
  log: (line: string) => void,
): Promise<void> {
  if (keep) return;
  for (const p of paths) {
    if (await pathExists(p)) {
      await Deno.remove(p, { recursive: true });
      log(`removed ${p} (derived; --keep-cache keeps it)`);
    }
  }
}

/**
 * Bytes of the base weights file a graph cache folder holds (`<cacheDir>/weights/<key>/weights.bin`,
 * which the engine writes once per model and weight format). Where stale keys sit beside it
 * (a kept cache), the newest file is the one the run wrote or used.
 *
 * @example
 * ```ts ignore
 * import { weightsFileBytes } from "./bench_cache.ts";
 * console.log(await weightsFileBytes(".cache/bench/quant-int4/graphs"));
 * ```
 */
export async function weightsFileBytes(cacheDir: string): Promise<number> {
  const root = join(cacheDir, "weights");
  let newest: Deno.FileInfo | undefined;
  for await (const e of Deno.readDir(root)) {
    const info = await Deno.stat(join(root, e.name, "weights.bin")).catch(() => undefined);
    if (info && (!newest || (info.mtime?.getTime() ?? 0) > (newest.mtime?.getTime() ?? 0))) {
      newest = info;
    }
  }
  if (!newest) throw new Error(`${root} holds no weights.bin; was a graph exported there?`);
  return newest.size;
}

/**
 * The seeded model of a benchmark shape (seed 0, float32), built once in `<base>/model` (the
 * suites use `.cache/bench/decode-<shape>`) and shared by the decode, steer, identities and train
 * suites. With `maxPositionEmbeddings`, another folder holds the same files hard-linked (copied
 * where links fail) and its own config.json and tokenizer_config.json: the weights and tokenizer of a seeded model do not
 * depend on the context length (`bench_cache_test.ts` checks that), so `long` shares them too.
 */
export async function seededBenchModel(
  base: string,
  spec: TinyModelOptions,
  log: (line: string) => void,
  variant?: { dir: string; maxPositionEmbeddings: number },
): Promise<string> {
  const modelDir = join(base, "model");
  if (!(await pathExists(join(base, "done")))) {
    log(`building the seeded model in ${modelDir} (once)`);
    await createTinyModel(modelDir, { ...spec, seed: 0 });
    await Deno.writeTextFile(join(base, "done"), "ok\n");
  }
  if (!variant) return modelDir;
  const out = join(variant.dir, "model");
  if (!(await pathExists(join(out, "config.json")))) {
    log(
      `linking ${modelDir} into ${out} (max_position_embeddings ${variant.maxPositionEmbeddings})`,
    );
    await Deno.mkdir(out, { recursive: true });
    // The context length is in config.json and tokenizer_config.json (model_max_length).
    const own = ["config.json", "tokenizer_config.json"];
    for await (const e of Deno.readDir(modelDir)) {
      if (!e.isFile || own.includes(e.name)) continue;
      const target = join(out, e.name);
      await Deno.remove(target).catch(() => {});
      await Deno.link(join(modelDir, e.name), target).catch(() =>
        Deno.copyFile(join(modelDir, e.name), target)
      );
    }
    const read = async (f: string) => JSON.parse(await Deno.readTextFile(join(modelDir, f)));
    const tokenizerConfig = await read("tokenizer_config.json");
    if ("model_max_length" in tokenizerConfig) {
      tokenizerConfig.model_max_length = variant.maxPositionEmbeddings;
    }
    await writeJsonAtomic(join(out, "tokenizer_config.json"), tokenizerConfig);
    const config = await read("config.json");
    config.max_position_embeddings = variant.maxPositionEmbeddings;
    // Written last: its presence marks the folder complete.
    await writeJsonAtomic(join(out, "config.json"), config);
  }
  return out;
}

if (import.meta.main) {
  console.log(formatCacheReport(await cacheReport(Deno.args[0] ?? ".cache")));
}
