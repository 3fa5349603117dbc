/**
 * Writes a decoder graph to disk as ONNX with external weights, including the
 * `<modelDir>/onnx/model.onnx` layout transformers.js loads.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../errors.ts";
import { writeJsonAtomic } from "../util/atomic.ts";
import type { LinearHook } from "../contracts/adapter.ts";
import type { TensorProtoData, ValueInfo } from "../onnx/ir.ts";
import { type SharedTensorFile, writeModel, writeTensorFile } from "../onnx/serialize.ts";
import type { DecoderConfig } from "./config.ts";
import {
  buildDecoderGraph,
  type DecoderGraphOptions,
  type DecoderWeightMap,
} from "./decoder_graph.ts";

/** Options of {@link exportDecoder}. */
export interface ExportDecoderOptions extends DecoderGraphOptions {
  /** Model file name inside `outDir`. Default `model.onnx` (weights in `model.onnx_data`). */
  fileName?: string;
  /** Alignment of tensors in the data file. Default 65536 (memory-mappable on every OS). */
  align?: number;
  /** Extra `metadata_props` entries. */
  metadata?: Record<string, string>;
  /**
   * A folder holding the base weights (`weights.bin` + `index.json`) shared by every graph of
   * this model and weight format: written on first use, then hard-linked into `outDir` as
   * `weights.bin` (copied where links fail), so N graph variants (steering, identities,
   * adapters) keep one copy of the weights on disk. The folder must be keyed by the model's
   * weight files, config and weight format, and by the graph's layout (`fused` graphs with
   * `blockedWeights` store the linear weights in blocks, gate_proj with up_proj as one table; the
   * engine's cache keys by its build as well). A folder that lacks one
   * of this graph's base tensors is refused with `E_GRAPH`.
   */
  sharedWeightsDir?: string;
  /**
   * What the shared weights were made from (model folder, weight format, the weight source's id
   * for generated weights), written beside them as `source.json` so a cache report can tell
   * weights generated into the cache (base weights) from copies of a checkpoint.
   */
  sharedWeightsSource?: Record<string, unknown>;
}

/** What {@link exportDecoder} wrote. */
export interface ExportedDecoder {
  modelPath: string;
  dataPath: string | null;
  dataBytes: number;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  hooks: LinearHook[];
}

/**
 * Builds the decoder and writes `outDir/model.onnx` plus `outDir/model.onnx_data`, streaming
 * the weights to disk one tensor at a time (linear weights are transposed as they are written).
 * With `bakeParameters`, adapter parameters are written to the data file like the weights and
 * the graph takes only the adapters' runtime inputs.
 *
 * @example
 * ```ts
 * import { exportDecoder } from "./export.ts";
 * import { readDecoderConfig } from "./config.ts";
 * import { loadWeights } from "./weights.ts";
 * const config = await readDecoderConfig("models/tiny");
 * const weights = await loadWeights("models/tiny", config);
 * const { modelPath } = await exportDecoder(config, weights, "runs/tiny_onnx", { steering: true });
 * console.log(modelPath);
 * // An inference graph with a LoRA adapter's weights inside (nothing to feed per run):
 * // await exportDecoder(config, weights, "runs/tiny_lora", { adapters: [lora], bakeParameters: true });
 * ```
 */
export async function exportDecoder(
  config: DecoderConfig,
  weights: DecoderWeightMap,
  outDir: string,
  options: ExportDecoderOptions = {},
): Promise<ExportedDecoder> {
  const fileName = options.fileName ?? "model.onnx";
  if (!fileName.endsWith(".onnx") || fileName.includes("/") || fileName.includes("\\")) {
    throw withCode(
      new TypeError(
        `fileName is ${JSON.stringify(fileName)}; pass a bare file name ending in .onnx`,
      ),
      "E_USAGE",
    );
  }
  const built = buildDecoderGraph(config, weights, options);
  Object.assign(built.model.metadata, options.metadata ?? {});
  const shared = options.sharedWeightsDir
    ? await linkSharedWeights(
      options.sharedWeightsDir,
      outDir,
      built.model.graph.initializers,
      weights,
      options.sharedWeightsSource,
    )
    : undefined;
  const res = await writeModel(built.model, join(outDir, fileName), {
    externalData: {
      location: `${fileName}_data`,
      align: options.align ?? 65536,
      threshold: 1024,
      shared,
    },
  });
  return { ...res, inputs: built.inputs, outputs: built.outputs, hooks: built.hooks };
}

/**
 * Writes `<modelDir>/onnx/model.onnx` (+ `model.onnx_data`), where transformers.js'
 * `AutoModelForCausalLM.from_pretrained(modelDir)` looks for an fp32 decoder. When the folder
 * has no `config.json`, the config's original JSON (`config.raw`) is written there too.
 * Steering inputs are off by default because `generate()` only feeds inputs it knows (see
 * runtime-findings §1.5); pass `steering: true` and extend `model.forward_params` to use them.
 *
 * @example
 * ```ts
 * import { exportForTransformersJs } from "./export.ts";
 * import { readDecoderConfig } from "./config.ts";
 * import { loadWeights } from "./weights.ts";
 * const config = await readDecoderConfig("models/tiny");
 * await exportForTransformersJs("models/tiny", config, await loadWeights("models/tiny", config));
 * ```
 */
export async function exportForTransformersJs(
  modelDir: string,
  config: DecoderConfig,
  weights: DecoderWeightMap,
  options: ExportDecoderOptions = {},
): Promise<ExportedDecoder> {
  const configPath = join(modelDir, "config.json");
  let hasConfig = true;
  try {
    await Deno.stat(configPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    hasConfig = false;
  }
  if (!hasConfig) {
    if (typeof config.raw?.model_type !== "string") {
      throw withCode(
        new TypeError(
          `${configPath} is missing and config.raw has no model_type; write config.json first`,
        ),
        "E_MODEL_DIR",
      );
    }
    await writeJsonAtomic(configPath, config.raw);
  }
  return await exportDecoder(config, weights, join(modelDir, "onnx"), {
    steering: false,
    ...options,
    fileName: "model.onnx",
  });
}

/**
 * Initializers that hold base weights (by their HF name plus the builders' suffixes; the blocked
 * `gate_up_proj` of inference graphs by its `gate_proj`).
 */
function isBaseWeight(name: string, weights: DecoderWeightMap): boolean {
  return weights.has(
    name.replace(/(_t|_b16|\.lm_head)?(\.q4|\.q8|\.scales|\.zero_points|\.order)?$/, "")
      .replace(/\.mlp\.gate_up_proj\.weight$/, ".mlp.gate_proj.weight"),
  );
}

async function linkSharedWeights(
  dir: string,
  outDir: string,
  initializers: readonly TensorProtoData[],
  weights: DecoderWeightMap,
  source: Record<string, unknown> | undefined,
): Promise<SharedTensorFile> {
  const indexPath = join(dir, "index.json");
  const dataPath = join(dir, "weights.bin");
  let index: Record<string, { offset: number; length: number }> | undefined;
  try {
    index = JSON.parse(await Deno.readTextFile(indexPath));
    await Deno.stat(dataPath);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof SyntaxError)) throw e;
    index = undefined;
  }
  const base = initializers.filter((t) => isBaseWeight(t.name, weights));
  if (!index) {
    index = await writeTensorFile(base, dataPath);
    if (source) await writeJsonAtomic(join(dir, "source.json"), source);
    await writeJsonAtomic(indexPath, index);
  }
  // A folder written for another layout would leave these tensors to the graph's own data file,
  // a silent second copy of most of the weights.
  const missing = base.filter((t) => !Object.hasOwn(index!, t.name));
  if (missing.length > 0) {
    throw withCode(
      new RangeError(
        `the shared weights in ${dir} hold no "${missing[0].name}"${
          missing.length > 1 ? ` (nor ${missing.length - 1} more of this graph's base tensors)` : ""
        }: they were written for another graph layout (fused or not, another weight format or ` +
          `build); give each layout its own sharedWeightsDir, or remove ${dir}`,
      ),
      "E_GRAPH",
    );
  }
  await Deno.mkdir(outDir, { recursive: true });
  const target = join(outDir, "weights.bin");
  await Deno.remove(target).catch(() => {});
  try {
    await Deno.link(dataPath, target);
  } catch {
    await Deno.copyFile(dataPath, target);
  }
  return { location: "weights.bin", index };
}
