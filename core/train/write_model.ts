/**
 * Writes a Hugging Face model directory from a base model directory and new weights — the
 * output of full-parameter training.
 *
 * @module
 */

import { join } from "node:path";
import type { DecoderConfig } from "../model/config.ts";
import { type RawTensor, SAFETENSORS_FILE, writeSafetensors } from "../model/safetensors.ts";
import { expectedWeightShapes } from "../model/weights.ts";
import { writeJsonAtomic } from "../util/atomic.ts";

function copied(name: string): boolean {
  return !(name.endsWith(".safetensors") || name === "model.safetensors.index.json" ||
    name === "config.json" || name === "adapter_config.json" || name.startsWith(".") ||
    name.endsWith(".onnx") || name.endsWith(".onnx_data") || name === "quantize_config.json");
}

/**
 * Writes `outDir/model.safetensors` (float32; every tensor the decoder reads, from `weights`),
 * `config.json` (the base one with `torch_dtype` float32 and no `quantization_config`) and copies
 * every other regular file of `baseDir` (tokenizer, generation config, chat template; not weights,
 * graphs, adapter or quantization settings). Returns the file names written.
 *
 * @example
 * ```ts
 * import { writeHfModel } from "./write_model.ts";
 * import { readDecoderConfig } from "../model/config.ts";
 * import { loadWeights } from "../model/weights.ts";
 * const config = await readDecoderConfig("./models/tiny");
 * const weights = await loadWeights("./models/tiny", config);
 * await writeHfModel("./models/tiny", config, weights, "./runs/full");
 * ```
 */
export async function writeHfModel(
  baseDir: string,
  config: DecoderConfig,
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  outDir: string,
): Promise<string[]> {
  const tensors = new Map<string, RawTensor>();
  for (const [name, shape] of expectedWeightShapes(config)) {
    const t = weights.get(name);
    if (!t) throw new RangeError(`writeHfModel: weight "${name}" [${shape}] is missing`);
    tensors.set(name, { dtype: "F32", shape: t.shape, data: t.data });
  }
  await Deno.mkdir(outDir, { recursive: true });
  await writeSafetensors(join(outDir, SAFETENSORS_FILE), tensors, { format: "pt" });
  // The weights written are float32: a GPTQ/AWQ base's quantization settings do not describe them.
  const { quantization_config: _, ...raw } = config.raw as Record<string, unknown>;
  await writeJsonAtomic(join(outDir, "config.json"), { ...raw, torch_dtype: "float32" });
  const files = [SAFETENSORS_FILE, "config.json"];
  for await (const e of Deno.readDir(baseDir)) {
    if (!e.isFile || !copied(e.name)) continue;
    await Deno.copyFile(join(baseDir, e.name), join(outDir, e.name));
    files.push(e.name);
  }
  return files.sort();
}
