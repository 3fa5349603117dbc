/**
 * Writes a Hugging Face model directory with a LoRA adapter merged in, so any HF-compatible
 * runtime (transformers, vLLM, this project's own loader) serves the finetuned model without
 * knowing about LoRA.
 *
 * @module
 */

import { readDecoderConfig } from "../../core/model/config.ts";
import { loadWeights } from "../../core/model/weights.ts";
import { writeHfModel } from "../../core/train/write_model.ts";
import type { LoraAdapter } from "./lora_adapter.ts";
import { mergeLora } from "./merge_lora.ts";

/** What {@link writeMergedModel} wrote. */
export interface MergedModelInfo {
  dir: string;
  /** File names written or copied, sorted. */
  files: string[];
}

/**
 * Reads the base model in `baseDir`, merges `adapter` into its weights, and writes `outDir`:
 * `model.safetensors` (float32, every tensor the decoder reads), `config.json` (the base one with
 * `torch_dtype` float32 and no `quantization_config`) and every other regular file of `baseDir`
 * copied unchanged (tokenizer files, generation config, chat template): `writeHfModel`'s layout.
 * Old weight shards, graphs, adapter files and quantization settings are not copied.
 *
 * @example
 * ```ts
 * import { writeMergedModel } from "./write_merged_model.ts";
 * import { loadLora } from "./load_lora.ts";
 * import { readDecoderConfig } from "../../core/model/config.ts";
 * const lora = await loadLora("./runs/adapter", await readDecoderConfig("./models/tiny"));
 * await writeMergedModel("./models/tiny", lora, "./models/tiny-merged");
 * ```
 */
export async function writeMergedModel(
  baseDir: string,
  adapter: LoraAdapter,
  outDir: string,
): Promise<MergedModelInfo> {
  const config = await readDecoderConfig(baseDir);
  const merged = mergeLora(await loadWeights(baseDir, config), adapter);
  return { dir: outDir, files: await writeHfModel(baseDir, config, merged, outDir) };
}
