/**
 * Writes a Hugging Face model directory with a LoRA adapter merged in, so any HF-compatible
 * runtime (transformers, vLLM, this project's own loader) serves the finetuned model without
 * knowing about LoRA.
 *
 * @module
 */

import { join } from "node:path";
import { readDecoderConfig } from "../../core/model/config.ts";
import {
  type RawTensor,
  SAFETENSORS_FILE,
  writeSafetensors,
} from "../../core/model/safetensors.ts";
import { expectedWeightShapes, loadWeights } from "../../core/model/weights.ts";
import { writeJsonAtomic } from "../../core/util/atomic.ts";
import type { LoraAdapter } from "./lora_adapter.ts";
import { mergeLora } from "./merge_lora.ts";
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from "./peft_config.ts";

/** What {@link writeMergedModel} wrote. */
export interface MergedModelInfo {
  dir: string;
  /** File names written or copied, sorted. */
  files: string[];
}

function skipped(name: string): boolean {
  return name.endsWith(".safetensors") || name === "model.safetensors.index.json" ||
    name === "config.json" || name === ADAPTER_CONFIG_FILE || name === ADAPTER_WEIGHTS_FILE ||
    name.startsWith(".");
}

/**
 * Reads the base model in `baseDir`, merges `adapter` into its weights, and writes `outDir`:
 * `model.safetensors` (float32, every tensor the decoder reads), `config.json` (the base one with
 * `torch_dtype` float32) and every other regular file of `baseDir` copied unchanged (tokenizer
 * files, generation config, chat template). Old weight shards and adapter files are not copied.
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
  const tensors = new Map<string, RawTensor>();
  for (const name of expectedWeightShapes(config).keys()) {
    const t = merged.get(name)!;
    tensors.set(name, { dtype: "F32", shape: t.shape, data: t.data });
  }
  await Deno.mkdir(outDir, { recursive: true });
  const files = [SAFETENSORS_FILE, "config.json"];
  await writeSafetensors(join(outDir, SAFETENSORS_FILE), tensors, { format: "pt" });
  await writeJsonAtomic(join(outDir, "config.json"), { ...config.raw, torch_dtype: "float32" });
  for await (const e of Deno.readDir(baseDir)) {
    if (!e.isFile || skipped(e.name)) continue;
    await Deno.copyFile(join(baseDir, e.name), join(outDir, e.name));
    files.push(e.name);
  }
  return { dir: outDir, files: files.sort() };
}
