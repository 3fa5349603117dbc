/**
 * Writes a LoRA adapter in PEFT's layout, so `PeftModel.from_pretrained(model, dir)` loads it.
 *
 * @module
 */

import { join } from "node:path";
import type { RawTensor } from "../../core/model/safetensors.ts";
import { writeSafetensors } from "../../core/model/safetensors.ts";
import { writeJsonAtomic } from "../../core/util/atomic.ts";
import type { LoraAdapter } from "./lora_adapter.ts";
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, peftConfigFor } from "./peft_config.ts";
import { peftKey } from "./peft_names.ts";

/**
 * Writes `adapter_config.json` and `adapter_model.safetensors` (float32, PEFT key names such as
 * `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`) into `dir`, creating it.
 * Each file is written atomically.
 *
 * @example
 * ```ts
 * import { saveLora } from "./save_lora.ts";
 * import type { LoraAdapter } from "./lora_adapter.ts";
 * declare const lora: LoraAdapter;
 * await saveLora("./out/adapter", lora);
 * ```
 */
export async function saveLora(dir: string, adapter: LoraAdapter): Promise<void> {
  const tensors = new Map<string, RawTensor>();
  for (const m of adapter.modules()) {
    const { name, inFeatures, outFeatures } = m.hook;
    tensors.set(peftKey(name, "A"), { dtype: "F32", shape: [m.r, inFeatures], data: m.A });
    tensors.set(peftKey(name, "B"), { dtype: "F32", shape: [outFeatures, m.r], data: m.B });
  }
  await Deno.mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: "pt" });
  await writeJsonAtomic(join(dir, ADAPTER_CONFIG_FILE), peftConfigFor(adapter));
}
